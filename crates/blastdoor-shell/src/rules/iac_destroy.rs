//! `iac.destroy`: infrastructure-as-code runs that destroy or apply unreviewed.
//!
//! Flags `terraform`/`tofu`/`terragrunt destroy`, `apply -destroy`, `apply -auto-approve`
//! (applies whatever the plan holds, deletes included, with nobody reading it), `state rm`,
//! `workspace delete`, `pulumi destroy`, `pulumi up --yes`, `pulumi stack rm`, `cdk destroy`.
//! Risky because one apply can replace or delete every resource in a stack. Example:
//! `terraform apply -auto-approve`. Safer: `terraform plan -out plan.tfplan`, have a human
//! read it, then apply that plan.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "iac.destroy",
    summary: "terraform, tofu, pulumi or cdk destroys a stack or applies changes without a reviewed plan",
    alternative: "run plan (terraform plan -out plan.tfplan / pulumi preview), have a human review it, then apply that plan",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let words = lower_words(&invocation.positionals(&[
        "-chdir",
        "-var",
        "-var-file",
        "-target",
        "-s",
        "--stack",
        "-C",
        "--cwd",
    ]));
    let texts: Vec<&str> = invocation
        .operands()
        .iter()
        .map(|arg| arg.text.as_str())
        .collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    let (risk, what) = match program {
        "terraform" | "tofu" | "terragrunt" => {
            let first = if first == "run-all" { second } else { first };
            match first {
                "destroy" => (Risk::Destroy, "destroys every resource in the stack"),
                "apply" if texts.contains(&"-destroy") || texts.contains(&"--destroy") => {
                    (Risk::Destroy, "destroys every resource in the stack")
                }
                "apply"
                    if texts.iter().any(|text| {
                        text.starts_with("-auto-approve") || text.starts_with("--auto-approve")
                    }) && words.len() < 2 =>
                {
                    (
                        Risk::Unknown,
                        "applies changes nobody reviewed (deletes included)",
                    )
                }
                "apply"
                    if words.len() < 2
                        && !matches!(invocation.stdin, crate::command::Stdin::Terminal) =>
                {
                    (
                        Risk::Unknown,
                        "answers the apply prompt from a pipe, so nobody reviews the plan",
                    )
                }
                "state" if matches!(second, "rm" | "push" | "replace-provider") => {
                    (Risk::Destroy, "rewrites the state")
                }
                "workspace" if second == "delete" => (Risk::Destroy, "deletes a workspace"),
                "force-unlock" => (Risk::Escalate, "breaks another run's lock"),
                _ => return,
            }
        }
        "pulumi" => match first {
            "destroy" | "down" => (Risk::Destroy, "destroys every resource in the stack"),
            "up" | "update" if invocation.has_flag(&['y', 'f'], &["--yes", "--skip-preview"]) => (
                Risk::Unknown,
                "applies changes nobody reviewed (deletes included)",
            ),
            "stack" if second == "rm" => (Risk::Destroy, "removes the stack"),
            "state" if second == "delete" => (Risk::Destroy, "rewrites the state"),
            _ => return,
        },
        "cdk" | "cdktf" | "sst" | "serverless" | "sls" => match first {
            "destroy" | "remove" => (Risk::Destroy, "destroys the stack"),
            _ => return,
        },
        _ => return,
    };
    let workspace = invocation.environment_hint.clone();
    let label = walker.context().cwd.to_string_lossy().into_owned();
    let target = remote_target(
        "iac-stack",
        &label,
        program,
        invocation,
        workspace.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        risk,
        format!(
            "`{program} {}` {what}",
            words.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
        ),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("terraform destroy -auto-approve", "hold iac.destroy");
        check("terraform apply -destroy", "hold iac.destroy");
        check("terraform apply -auto-approve", "hold iac.destroy");
        check("tofu destroy", "hold iac.destroy");
        check("terragrunt run-all destroy", "hold iac.destroy");
        check(
            "terraform state rm aws_db_instance.main",
            "hold iac.destroy",
        );
        check("pulumi destroy --yes", "hold iac.destroy");
        check("pulumi up --yes", "hold iac.destroy");
        check("cdk destroy --force", "hold iac.destroy");
        check("terraform plan -out plan.tfplan", "allow");
        check("terraform apply plan.tfplan", "allow");
        check("terraform init", "allow");
        check("pulumi preview", "allow");
    }
}
