//! `cloud.aws-destructive`: destructive or privilege-widening AWS CLI calls.
//!
//! Flags operations named `delete-*`, `terminate-*`, `remove-*`, `deregister-*`, `purge-*`,
//! `s3 rm`, `s3 rb`, `s3 sync --delete`, and IAM grants (`create-access-key`,
//! `attach-*-policy`, `put-*-policy`, `create-user`). Risky because they are immediate and
//! mostly unrecoverable (RDS instances, buckets, snapshots). Example: `aws rds
//! delete-db-instance --db-instance-identifier prod --skip-final-snapshot`. Safer: IaC with a
//! reviewed plan, final snapshots, versioned buckets.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.aws-destructive",
    summary: "the AWS CLI deletes, terminates or purges resources, or widens IAM privileges",
    alternative: "change infrastructure through reviewed IaC (terraform plan, then apply by a human); for S3 use versioned buckets and lifecycle rules",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "aws" {
        return;
    }
    let takes_value = [
        "--profile",
        "--region",
        "--output",
        "--query",
        "--endpoint-url",
        "--cli-input-json",
        "--color",
        "--ca-bundle",
        "--cli-read-timeout",
        "--cli-connect-timeout",
    ];
    let words = lower_words(&invocation.positionals(&takes_value));
    let (Some(service), Some(operation)) = (words.first(), words.get(1)) else {
        return;
    };
    let destroy_prefixes = [
        "delete-",
        "terminate-",
        "remove-",
        "deregister-",
        "purge-",
        "destroy-",
        "disable-",
        "cancel-",
        "reset-",
    ];
    let escalate_prefixes = [
        "create-access-key",
        "attach-",
        "put-user-policy",
        "put-role-policy",
        "put-group-policy",
        "create-user",
        "create-login-profile",
        "update-assume-role-policy",
        "add-user-to-group",
        "create-policy-version",
        "put-bucket-policy",
        "authorize-security-group-ingress",
    ];
    let risk = if destroy_prefixes
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || service == "s3" && matches!(operation.as_str(), "rm" | "rb")
        || service == "s3" && operation == "sync" && invocation.has_flag(&[], &["--delete"])
    {
        Risk::Destroy
    } else if escalate_prefixes
        .iter()
        .any(|prefix| operation.starts_with(prefix))
    {
        Risk::Escalate
    } else {
        return;
    };
    let profile = crate::command::option_text(invocation.operands(), &[], &["--profile"]);
    let target = remote_target(
        "aws-resource",
        &format!("{service} {operation}"),
        "aws",
        invocation,
        profile.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        risk,
        format!("`aws {service} {operation}` ({risk})"),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "aws rds delete-db-instance --db-instance-identifier prod --skip-final-snapshot",
            "hold cloud.aws-destructive",
        );
        check(
            "aws ec2 terminate-instances --instance-ids i-123",
            "hold cloud.aws-destructive",
        );
        check(
            "aws s3 rm s3://backups --recursive",
            "hold cloud.aws-destructive",
        );
        check(
            "aws s3 rb s3://old-bucket --force",
            "hold cloud.aws-destructive",
        );
        check(
            "aws --profile prod s3 sync ./site s3://www --delete",
            "hold cloud.aws-destructive",
        );
        check(
            "aws iam create-access-key --user-name deploy",
            "hold cloud.aws-destructive",
        );
        check("aws s3 ls s3://backups", "allow");
        check("aws ec2 describe-instances --region us-east-1", "allow");
        check("aws s3 cp build/ s3://www/ --recursive", "allow");
    }
}
