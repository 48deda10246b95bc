//! `cloud.az-destructive`: destructive or privilege-widening Azure CLI calls.
//!
//! Flags `az ... delete` (resource groups, VMs, databases, storage), `purge`, `delete-batch`,
//! and `az role assignment create`. Risky because `az group delete` removes every resource in
//! the group. Example: `az group delete -n prod-rg --yes`. Safer: resource locks on
//! production groups and changes through reviewed IaC.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words};

pub(crate) static RULE: Rule = Rule {
    id: "cloud.az-destructive",
    summary: "the Azure CLI deletes or purges resources or assigns roles",
    alternative: "change infrastructure through reviewed IaC, with resource locks on production groups",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if invocation.program() != "az" {
        return;
    }
    let takes_value = [
        "-n",
        "--name",
        "-g",
        "--resource-group",
        "--subscription",
        "-o",
        "--output",
        "--query",
    ];
    let words = lower_words(&invocation.positionals(&takes_value));
    let risk = if super::find_verb(&words, &["delete", "purge", "delete-batch", "remove"]).is_some()
    {
        Risk::Destroy
    } else if words
        .windows(3)
        .any(|triple| triple == ["role", "assignment", "create"])
    {
        Risk::Escalate
    } else {
        return;
    };
    let group = crate::command::option_text(
        invocation.operands(),
        &["-g", "-n"],
        &["--resource-group", "--name"],
    )
    .map(|group| {
        if group.contains("prod") {
            "production".to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let target = remote_target(
        "azure-resource",
        &words.join(" "),
        "azure",
        invocation,
        group.as_deref(),
    );
    walker.report(Finding::hold(
        &RULE,
        risk,
        format!("`az {}` ({risk})", words.join(" ")),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "az group delete -n prod-rg --yes",
            "hold cloud.az-destructive",
        );
        check(
            "az sql db delete -g rg -s srv -n app",
            "hold cloud.az-destructive",
        );
        check(
            "az storage blob delete-batch -s backups",
            "hold cloud.az-destructive",
        );
        check(
            "az role assignment create --assignee x --role Owner",
            "hold cloud.az-destructive",
        );
        check("az vm list -o table", "allow");
    }
}
