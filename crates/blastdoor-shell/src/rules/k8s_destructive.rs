//! `k8s.destructive`: destructive or privilege-widening `kubectl` and `helm` commands.
//!
//! Flags `kubectl delete`, `drain`, `replace --force`, `scale --replicas=0`, `apply --prune`,
//! `rollout undo`, `create token`, `create (cluster)rolebinding`, `auth ... --as`,
//! `helm uninstall|delete|rollback`. The context or namespace naming `prod` makes it
//! production; otherwise unknown. Risky because deleting a namespace, PVC or deployment
//! takes the data and the service with it. Example: `kubectl delete pvc data-postgres-0 -n
//! prod`. Safer: `kubectl diff`, a reviewed manifest change through GitOps, or scale down
//! instead of deleting.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::{Invocation, lower_words, option_text};

pub(crate) static RULE: Rule = Rule {
    id: "k8s.destructive",
    summary: "kubectl or helm deletes, drains, scales to zero, force-replaces or uninstalls cluster resources, or mints cluster credentials",
    alternative: "change manifests through GitOps with review, use kubectl diff first, or scale down instead of deleting",
};

const TAKES_VALUE: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-l",
    "--selector",
    "-o",
    "--output",
    "-f",
    "--filename",
    "-c",
    "--container",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--token",
];

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let operands = invocation.operands();
    let words = lower_words(&invocation.positionals(TAKES_VALUE));
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    let risk = match program {
        "kubectl" | "oc" | "k" => match first {
            "delete" | "drain" => Risk::Destroy,
            "replace" if invocation.has_flag(&[], &["--force"]) => Risk::Destroy,
            "apply" if invocation.has_flag(&[], &["--prune"]) => Risk::Destroy,
            "scale" if operands.iter().any(|arg| arg.text == "--replicas=0") || operands.windows(2).any(|pair| matches!(pair, [flag, value] if flag.text == "--replicas" && value.text == "0")) => Risk::Destroy,
            "rollout" if second == "undo" => Risk::Destroy,
            "create" if matches!(second, "token" | "clusterrolebinding" | "rolebinding" | "serviceaccount") => Risk::Escalate,
            "certificate" if second == "approve" => Risk::Escalate,
            _ => return,
        },
        "helm" => match first {
            "uninstall" | "delete" | "del" | "un" => Risk::Destroy,
            "rollback" => Risk::Destroy,
            _ => return,
        },
        _ => return,
    };
    let context = option_text(operands, &[], &["--context", "--kube-context"])
        .or_else(|| option_text(operands, &["-n"], &["--namespace"]));
    let named = context.map(|context| {
        if context.contains("prod") {
            "production".to_owned()
        } else {
            "unknown".to_owned()
        }
    });
    let target = remote_target(
        "k8s-resource",
        &words.join(" "),
        "kubernetes",
        invocation,
        named.as_deref(),
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
        check("kubectl delete namespace prod", "hold k8s.destructive");
        check(
            "kubectl -n prod delete pvc data-postgres-0",
            "hold k8s.destructive",
        );
        check(
            "kubectl --context prod-eu delete deploy api",
            "hold k8s.destructive",
        );
        check(
            "kubectl drain node-1 --ignore-daemonsets",
            "hold k8s.destructive",
        );
        check(
            "kubectl scale deploy api --replicas=0",
            "hold k8s.destructive",
        );
        check("kubectl create token admin-sa", "hold k8s.destructive");
        check("helm uninstall postgres -n data", "hold k8s.destructive");
        check("kubectl get pods -A", "allow");
        check("kubectl describe deploy api", "allow");
        check("kubectl logs -f deploy/api", "allow");
        check("kubectl apply -f k8s/", "allow");
        check("helm upgrade --install api ./chart", "allow");
        check(
            "kubectl exec -it db-0 -- psql -c 'DROP TABLE users'",
            "hold db.psql-destructive",
        );
    }
}
