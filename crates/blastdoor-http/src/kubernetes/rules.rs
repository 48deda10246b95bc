//! The Kubernetes rules, as data: every rule id [`super::classify`] can return, with what it
//! flags, why, an example and the safer alternative. [`RULES`] lists them in a stable order.
//!
//! The path rules come first (they need only the method and path), then the body rules, which
//! read the body of an update, a patch or a delete ([`super::body`]). A body rule only ever
//! raises the risk the path rules gave.

use blastdoor_core::Risk;

use crate::rule::Rule;

/// `kubernetes.read`: `get`, `list` and `watch` of anything but secrets, and API discovery.
pub static READ: Rule = Rule {
    id: "kubernetes.read",
    risk: Risk::Read,
    summary: "reads objects or API discovery documents",
    example: "GET /apis/apps/v1/namespaces/prod/deployments",
    alternative: "",
};

/// `kubernetes.secrets-read`: reading `secrets`. A read, but the response holds credentials,
/// so it is flagged `sensitive`.
pub static SECRETS_READ: Rule = Rule {
    id: "kubernetes.secrets-read",
    risk: Risk::Read,
    summary: "reads secrets: the response holds credentials",
    example: "GET /api/v1/namespaces/prod/secrets/db",
    alternative: "read the one key the task needs through a scoped service account",
};

/// `kubernetes.write`: creates, updates and patches no other rule flags, and deleting pods or
/// events (controllers recreate pods; events expire anyway).
pub static WRITE: Rule = Rule {
    id: "kubernetes.write",
    risk: Risk::Write,
    summary: "creates or changes objects in a way that can be undone",
    example: "PATCH /apis/apps/v1/namespaces/prod/deployments/web (merge patch of an image)",
    alternative: "",
};

/// `kubernetes.exec`: `pods/exec`, `pods/attach`, `pods/portforward` and every `proxy`
/// subresource: they run commands in, or reach straight into, a workload, whatever the verb.
pub static EXEC: Rule = Rule {
    id: "kubernetes.exec",
    risk: Risk::Execute,
    summary: "runs commands in a container or reaches into a workload past the API server",
    example: "POST /api/v1/namespaces/prod/pods/web-1/exec?command=sh",
    alternative: "a reviewed Job, or a read-only debug container in a non-production namespace",
};

/// `kubernetes.escalate`: any write to `rbac.authorization.k8s.io`, minting service account
/// tokens, and certificate signing requests (and their approval): each grants access.
pub static ESCALATE: Rule = Rule {
    id: "kubernetes.escalate",
    risk: Risk::Escalate,
    summary: "grants access, mints a token or signs a certificate",
    example: "POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    alternative: "ask a cluster administrator for the narrowest role the task needs",
};

/// `kubernetes.delete`: deleting one object that no controller recreates (anything but pods
/// and events). A custom resource may well be a database, a PVC holds data.
pub static DELETE: Rule = Rule {
    id: "kubernetes.delete",
    risk: Risk::Destroy,
    summary: "deletes an object no controller recreates",
    example: "DELETE /api/v1/namespaces/prod/persistentvolumeclaims/data",
    alternative: "scale the workload down and keep the object (and a snapshot of its volume) \
                  until a human has confirmed it is unused",
};

/// `kubernetes.collection-delete`: a DELETE on a collection path, with no object name
/// (`deletecollection`), namespaced or cluster-scoped, with or without a `labelSelector` or
/// `fieldSelector`: it deletes every matching object at once, pods included, and an empty or
/// mistyped selector matches everything.
pub static COLLECTION_DELETE: Rule = Rule {
    id: "kubernetes.collection-delete",
    risk: Risk::Destroy,
    summary: "deletes every object of a collection that matches the selector, all at once",
    example: "DELETE /api/v1/namespaces/prod/pods?labelSelector=app%3Dweb",
    alternative: "list the objects first and delete them one by one, by name",
};

/// `kubernetes.pod-force-delete`: deleting a pod with `gracePeriodSeconds` 0 (or less), in
/// the query or the `DeleteOptions` body (`kubectl delete --grace-period=0 --force`). The API
/// server forgets the pod without waiting for the kubelet to stop it: a StatefulSet may then
/// start a second pod with the same identity and volume while the first still writes to it.
pub static POD_FORCE_DELETE: Rule = Rule {
    id: "kubernetes.pod-force-delete",
    risk: Risk::Destroy,
    summary: "force-deletes a pod without waiting for its containers to stop",
    example: "DELETE /api/v1/namespaces/prod/pods/pg-0?gracePeriodSeconds=0",
    alternative: "delete the pod with its normal grace period, and find out why it is stuck",
};

/// `kubernetes.namespace-finalize`: a write to `namespaces/{name}/finalize`, whose only use is
/// to drop the namespace's finalizers: the namespace disappears before its contents are
/// cleaned up, and they linger unreachable in etcd until a namespace of the same name returns.
pub static NAMESPACE_FINALIZE: Rule = Rule {
    id: "kubernetes.namespace-finalize",
    risk: Risk::Destroy,
    summary: "forces a terminating namespace away by dropping its finalizers",
    example: "PUT /api/v1/namespaces/prod/finalize with `spec.finalizers: []`",
    alternative: "find the resource or API service that blocks the namespace's deletion and fix it",
};

/// `kubernetes.scale-to-zero`: an update or patch that sets `spec.replicas` (deployments,
/// statefulsets, replicasets, replication controllers, the `scale` subresource, custom
/// resources) or `spec.maxReplicas` (autoscalers) to 0, or that removes or nulls a Scale's
/// `spec.replicas` (a plain number there, so a Scale without it is at 0; a Deployment without
/// it defaults to 1). Every pod of the workload stops: an outage, and with a StatefulSet
/// `whenScaled: Delete` retention policy, deleted volumes.
pub static SCALE_TO_ZERO: Rule = Rule {
    id: "kubernetes.scale-to-zero",
    risk: Risk::Destroy,
    summary: "scales a workload to zero replicas: every pod stops",
    example: "PATCH /apis/apps/v1/namespaces/prod/deployments/web/scale \
              {\"spec\":{\"replicas\":0}}",
    alternative: "scale down one replica at a time, or do it in a maintenance window a human \
                  approved",
};

/// `kubernetes.finalizers-removed`: an update or patch that removes or replaces
/// `metadata.finalizers`: a merge patch that sets them (null, `[]` or a list, which replaces
/// the stored one), a strategic merge patch that sets them to null or `[]`, uses
/// `$deleteFromPrimitiveList/finalizers` or replaces, deletes or drops (`$retainKeys`) the
/// object or its metadata, a JSON Patch that removes, replaces or moves them (appending with
/// `add .../finalizers/-` stays a write), an update or apply that sets them to null or `[]`.
/// Finalizers are what keep an object until its cleanup is done (`pvc-protection` keeps a
/// volume in use); removing them forces the deletion through, unfinished.
pub static FINALIZERS_REMOVED: Rule = Rule {
    id: "kubernetes.finalizers-removed",
    risk: Risk::Destroy,
    summary: "removes finalizers, which forces a deletion through before its cleanup is done",
    example: "PATCH .../persistentvolumeclaims/data {\"metadata\":{\"finalizers\":null}}",
    alternative: "find the controller that should remove its finalizer and fix it",
};

/// `kubernetes.deletion-timestamp`: an update or patch that sets
/// `metadata.deletionTimestamp` or `metadata.deletionGracePeriodSeconds`. Only the API server
/// sets them, when a deletion starts; a body carrying them either tries to delete the object
/// through an update, or updates an object that is being deleted (typically to drop the
/// finalizer that holds it).
pub static DELETION_TIMESTAMP: Rule = Rule {
    id: "kubernetes.deletion-timestamp",
    risk: Risk::Destroy,
    summary: "sets the deletion timestamp, or updates an object that is being deleted",
    example: "PUT .../deployments/web with `metadata.deletionTimestamp` set",
    alternative: "delete the object with DELETE, which a human can approve as a delete",
};

/// `kubernetes.owner-references`: an update or patch that sets `metadata.ownerReferences` (a
/// list that is not empty, or one entry of it). The garbage collector deletes an object whose
/// owners do not exist, at once, and one whose owner is deleted later, with it: an owner
/// reference to a made-up uid is a delete that looks like a label change. An update carries
/// the whole object, so one that keeps existing owners is flagged too.
pub static OWNER_REFERENCES: Rule = Rule {
    id: "kubernetes.owner-references",
    risk: Risk::Destroy,
    summary: "sets owner references: the garbage collector deletes an object whose owners are \
              gone, and with an owner that is deleted later",
    example: "PATCH .../persistentvolumeclaims/data \
              {\"metadata\":{\"ownerReferences\":[{\"uid\":\"0000\",...}]}}",
    alternative: "leave ownership to the controller that creates the object",
};

/// `kubernetes.data-keys-removed`: a patch to a Secret or ConfigMap that removes keys from
/// `data` (or `binaryData`): a key set to null, the whole map set to null, replaced (JSON Patch
/// `replace`/`add` of the map, strategic `$patch: replace`, `$retainKeys`) or a JSON Patch
/// `remove`. A credential or setting that exists nowhere else is gone. Changing a key's value
/// stays a write. (A PUT replaces the whole object: blastdoor cannot see which keys it drops.)
pub static DATA_KEYS_REMOVED: Rule = Rule {
    id: "kubernetes.data-keys-removed",
    risk: Risk::Destroy,
    summary: "removes keys from a Secret or ConfigMap",
    example: "PATCH /api/v1/namespaces/prod/secrets/db {\"data\":{\"password\":null}}",
    alternative: "add the new key beside the old one, switch the workload over, then remove \
                  the old key with a human's approval",
};

/// `kubernetes.reclaim-delete`: an update or patch that sets a PersistentVolume's
/// `persistentVolumeReclaimPolicy` or a StatefulSet's `persistentVolumeClaimRetentionPolicy`
/// (`whenDeleted`, `whenScaled`) to `Delete`: nothing is lost yet, but the next release of the
/// claim, deletion or scale-down deletes the volume and its data. An update (PUT) carries the
/// whole object, so one that keeps an existing `Delete` is flagged too.
pub static RECLAIM_DELETE: Rule = Rule {
    id: "kubernetes.reclaim-delete",
    risk: Risk::Destroy,
    summary: "arms the deletion of volumes: a reclaim or retention policy set to `Delete`",
    example: "PATCH /api/v1/persistentvolumes/pv-1 \
              {\"spec\":{\"persistentVolumeReclaimPolicy\":\"Delete\"}}",
    alternative: "keep `Retain`, and delete the volume itself after a snapshot, with approval",
};

/// `kubernetes.path-unknown`: anything blastdoor cannot read as an API server request: a
/// non-canonical path (`//`, `.`, `..`, percent-escapes: the API server's reading might
/// differ), a path that is not an API path, an unknown method, a write to a discovery path.
pub static PATH_UNKNOWN: Rule = Rule {
    id: "kubernetes.path-unknown",
    risk: Risk::Unknown,
    summary: "a request blastdoor cannot read as an API server request",
    example: "DELETE /api/v1/namespaces/%70rod",
    alternative: "send the canonical path (`/api/v1/...` or `/apis/{group}/{version}/...`)",
};

/// Every Kubernetes rule, path rules first, in a stable order.
pub static RULES: &[&Rule] = &[
    &READ,
    &SECRETS_READ,
    &WRITE,
    &EXEC,
    &ESCALATE,
    &DELETE,
    &COLLECTION_DELETE,
    &POD_FORCE_DELETE,
    &NAMESPACE_FINALIZE,
    &SCALE_TO_ZERO,
    &FINALIZERS_REMOVED,
    &DELETION_TIMESTAMP,
    &OWNER_REFERENCES,
    &DATA_KEYS_REMOVED,
    &RECLAIM_DELETE,
    &PATH_UNKNOWN,
];
