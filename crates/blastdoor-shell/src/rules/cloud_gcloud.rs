//! `cloud.gcloud-destructive`: destructive or privilege-widening Google Cloud CLI calls.
//!
//! Flags `gcloud ... delete` (instances, SQL instances, projects, clusters, buckets),
//! `gcloud storage rm`, `gsutil rm`/`rb`, and IAM grants (`add-iam-policy-binding`,
//! `set-iam-policy`, `keys create`). Risky because deletes are immediate and a project delete
//! takes everything in it. Example: `gcloud sql instances delete prod-db`. Safer: IaC with a
//! reviewed plan, deletion protection on databases.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.gcloud-destructive",
    summary: "gcloud or gsutil deletes resources or grants IAM roles",
    alternative: "change infrastructure through reviewed IaC, or let a human run the delete after a backup",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    if !matches!(program, "gcloud" | "gsutil") {
        return;
    }
    let takes_value = [
        "--project",
        "--region",
        "--zone",
        "--format",
        "--configuration",
        "--account",
        "--filter",
        "-p",
    ];
    let words = lower_words(&invocation.positionals(&takes_value));
    let risk = if program == "gsutil" {
        if matches!(words.first().map(String::as_str), Some("rm" | "rb"))
            || words.first().map(String::as_str) == Some("rsync")
                && invocation.has_flag(&['d'], &[])
        {
            Risk::Destroy
        } else {
            return;
        }
    } else if super::find_verb(&words, &["delete", "rm", "destroy", "purge"]).is_some() {
        Risk::Destroy
    } else if super::find_verb(&words, &["add-iam-policy-binding", "set-iam-policy"]).is_some()
        || words.windows(2).any(|pair| pair == ["keys", "create"])
    {
        Risk::Escalate
    } else {
        return;
    };
    let project =
        crate::command::option_text(invocation.operands(), &[], &["--project"]).map(|project| {
            if project.contains("prod") {
                "production".to_owned()
            } else {
                project
            }
        });
    let target = remote_target(
        "gcp-resource",
        &words.join(" "),
        "gcp",
        invocation,
        project.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        risk,
        format!("`{program} {}` ({risk})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "gcloud sql instances delete prod-db",
            "hold cloud.gcloud-destructive",
        );
        check(
            "gcloud projects delete my-project --quiet",
            "hold cloud.gcloud-destructive",
        );
        check(
            "gcloud storage rm -r gs://backups",
            "hold cloud.gcloud-destructive",
        );
        check(
            "gsutil -m rm -r gs://backups/**",
            "hold cloud.gcloud-destructive",
        );
        check(
            "gcloud projects add-iam-policy-binding p --member=user:x --role=roles/owner",
            "hold cloud.gcloud-destructive",
        );
        check("gcloud compute instances list", "allow");
        check("gsutil ls gs://backups", "allow");
    }
}
