"""Least privilege in Kubernetes RBAC manifests.

Reads Role, ClusterRole, RoleBinding, ClusterRoleBinding, ServiceAccount and workload
manifests (multi-document YAML or JSON, ``kind: List`` too) and reports grants wider than
a workload needs: wildcards, cluster-admin bindings, exec/attach/node proxy, the
escalate/bind/impersonate verbs, reading every Secret, and API tokens mounted by default.
Each finding carries the file and line (from the YAML node marks), the reason and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gonogo.security.findings import Finding, Severity
from gonogo.security.located import LocatedDoc, PathKey

#: where each workload kind keeps its pod spec
POD_SPEC_PATHS: dict[str, PathKey] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

#: sub-resources that hand out a shell or the kubelet: subresource → (rule id, what it gives)
DANGEROUS_SUBRESOURCES = {
    "pods/exec": ("rbac-pods-exec", "run commands inside pods"),
    "pods/attach": ("rbac-pods-attach", "attach to running containers"),
    "nodes/proxy": ("rbac-nodes-proxy", "reach the kubelet API of the nodes (exec included)"),
}

#: verbs that grant more than the role itself: verb → what it lets the holder do
ESCALATION_VERBS = {
    "escalate": "create or edit roles with permissions it does not hold",
    "bind": "bind any role, including ones with more permissions than it holds",
    "impersonate": "act as other users, groups or service accounts",
}

READ_VERBS = frozenset({"get", "list", "watch", "*"})
WIDE_CLUSTER_ROLES = {"admin": "admin", "edit": "edit"}
ANONYMOUS = frozenset({"system:anonymous", "system:unauthenticated"})

_FIX_WILDCARD = "list the exact verbs, resources and API groups the workload uses"


@dataclass(frozen=True)
class K8sObject:
    """One manifest object: its file, document and path inside it (``items`` of a List)."""

    file: str
    doc: LocatedDoc
    path: PathKey
    value: dict[str, Any]

    @property
    def kind(self) -> str:
        """The object's ``kind``."""
        return str(self.value.get("kind") or "")

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return str(_get(self.value, "metadata", "name") or "?")

    @property
    def namespace(self) -> str:
        """``metadata.namespace``, or empty when not set."""
        return str(_get(self.value, "metadata", "namespace") or "")

    @property
    def subject(self) -> str:
        """``Kind/name`` with the namespace when set."""
        where = f" (namespace {self.namespace})" if self.namespace else ""
        return f"{self.kind}/{self.name}{where}"

    def line(self, *path: str | int) -> int:
        """Line of ``path`` inside this object."""
        return self.doc.line_of((*self.path, *path))

    def finding(self, rule: str, severity: Severity, at: PathKey, reason: str, fix: str) -> Finding:
        """A finding located at ``at`` inside this object."""
        return Finding(rule, severity, self.file, self.line(*at), reason, fix, self.subject)


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def objects(file: str, docs: list[LocatedDoc]) -> Iterator[K8sObject]:
    """Every Kubernetes object in the documents of ``file`` (``kind: List`` unpacked)."""
    for doc in docs:
        yield from _objects(file, doc, (), doc.value)


def _objects(file: str, doc: LocatedDoc, path: PathKey, value: Any) -> Iterator[K8sObject]:
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        return
    if value["kind"].endswith("List") and isinstance(value.get("items"), list):
        for i, item in enumerate(value["items"]):
            yield from _objects(file, doc, (*path, "items", i), item)
        return
    if "apiVersion" in value:
        yield K8sObject(file, doc, path, value)


def analyse(objs: list[K8sObject]) -> list[Finding]:
    """Every least-privilege finding in a set of manifest objects (read together)."""
    no_token = {
        (o.namespace, o.name)
        for o in objs
        if o.kind == "ServiceAccount" and o.value.get("automountServiceAccountToken") is False
    }
    findings: list[Finding] = []
    for obj in objs:
        if obj.kind in {"Role", "ClusterRole"}:
            findings += _role_findings(obj)
        elif obj.kind in {"RoleBinding", "ClusterRoleBinding"}:
            findings += _binding_findings(obj)
        elif obj.kind == "ServiceAccount":
            findings += _service_account_findings(obj)
        elif obj.kind in POD_SPEC_PATHS:
            findings += _pod_findings(obj, no_token)
    return findings


def _role_findings(obj: K8sObject) -> list[Finding]:
    """A Role's rules, and each part of it that is no rule (its grants cannot be checked)."""
    rules = obj.value.get("rules")
    fix = "write rules as a list of mappings (apiGroups, resources, verbs)"
    if rules is not None and not isinstance(rules, list):
        why = f"rules is not a list: what this {obj.kind} grants cannot be checked"
        return [obj.finding("rbac-unreadable", Severity.HIGH, ("rules",), why, fix)]
    findings: list[Finding] = []
    for i, rule in enumerate(rules or []):
        if isinstance(rule, dict):
            findings += _rule_findings(obj, i, rule)
        else:
            why = f"rules[{i}] is not a rule: what this {obj.kind} grants cannot be checked"
            findings.append(obj.finding("rbac-unreadable", Severity.HIGH, ("rules", i), why, fix))
    return findings


def _rule_findings(obj: K8sObject, index: int, rule: dict[str, Any]) -> list[Finding]:
    verbs, resources = _strs(rule.get("verbs")), _strs(rule.get("resources"))
    groups = _strs(rule.get("apiGroups"))
    scope = "in every namespace" if obj.kind == "ClusterRole" else "in its namespace"
    at = ("rules", index)
    out: list[Finding] = []

    def add(
        rule_id: str, severity: Severity, key: str, item: str | None, why: str, fix: str
    ) -> None:
        values = _strs(rule.get(key))
        where: PathKey = (*at, key, values.index(item)) if item in values else (*at, key)
        out.append(obj.finding(rule_id, severity, where, why, fix))

    if "*" in verbs and "*" in resources:
        severity = Severity.CRITICAL if obj.kind == "ClusterRole" else Severity.HIGH
        groups_text = " of every API group" if "*" in groups else ""
        why = f"rules[{index}] grants every verb on every resource{groups_text} {scope}"
        add("rbac-wildcard-all", severity, "verbs", "*", why, _FIX_WILDCARD)
        return out
    if "*" in verbs:
        why = f"rules[{index}] grants every verb (*) on {', '.join(resources) or 'its resources'}"
        add("rbac-wildcard-verbs", Severity.HIGH, "verbs", "*", f"{why} {scope}", _FIX_WILDCARD)
    if "*" in resources:
        why = f"rules[{index}] grants {', '.join(verbs)} on every resource (*) {scope}"
        add("rbac-wildcard-resources", Severity.HIGH, "resources", "*", why, _FIX_WILDCARD)
    elif "*" in groups:
        why = f"rules[{index}] applies to every API group (*), present and future"
        add("rbac-wildcard-apigroups", Severity.MEDIUM, "apiGroups", "*", why, _FIX_WILDCARD)
    for sub in (r for r in resources if r.endswith("/*")):
        why = f"rules[{index}] grants every sub-resource of {sub[:-2]} ({sub}), exec included"
        add("rbac-wildcard-resources", Severity.HIGH, "resources", sub, why, _FIX_WILDCARD)
    for sub, (rule_id, gives) in DANGEROUS_SUBRESOURCES.items():
        if sub in resources and verbs:
            where = "" if sub.startswith("nodes/") else f" {scope}"
            why = f"rules[{index}] grants {sub}: the holder can {gives}{where}"
            fix = f"remove {sub}; use a break-glass role for debugging, bound only when needed"
            add(rule_id, Severity.HIGH, "resources", sub, why, fix)
    for verb, gives in ESCALATION_VERBS.items():
        if verb in verbs:
            why = f"rules[{index}] grants the {verb} verb: the holder can {gives}"
            fix = f"remove the {verb} verb; only cluster administrators need it"
            add(f"rbac-{verb}", Severity.HIGH, "verbs", verb, why, fix)
    if "secrets" in resources and READ_VERBS.intersection(verbs) and not rule.get("resourceNames"):
        read = ", ".join(v for v in verbs if v in READ_VERBS)
        why = f"rules[{index}] lets the holder {read} every Secret {scope}"
        fix = "limit the rule to the Secrets it needs with resourceNames, or mount them instead"
        add("rbac-read-secrets", Severity.HIGH, "resources", "secrets", why, fix)
    return out


def _binding_findings(obj: K8sObject) -> list[Finding]:
    role = str(_get(obj.value, "roleRef", "name") or "")
    role_kind = str(_get(obj.value, "roleRef", "kind") or "")
    subjects = [s for s in obj.value.get("subjects") or [] if isinstance(s, dict)]
    who = ", ".join(f"{s.get('kind', '?')} {s.get('name', '?')}" for s in subjects) or "nobody"
    cluster_wide = obj.kind == "ClusterRoleBinding"
    out: list[Finding] = []
    if role_kind == "ClusterRole" and role == "cluster-admin":
        scope = "the whole cluster" if cluster_wide else f"namespace {obj.namespace or 'default'}"
        severity = Severity.CRITICAL if cluster_wide else Severity.HIGH
        why = f"binds cluster-admin to {who}: full control of {scope}"
        fix = "bind a Role with only the permissions the subject uses"
        out.append(obj.finding("rbac-cluster-admin", severity, ("roleRef", "name"), why, fix))
    elif cluster_wide and role_kind == "ClusterRole" and role in WIDE_CLUSTER_ROLES:
        why = f"binds the {role} ClusterRole to {who} in every namespace"
        fix = f"use a RoleBinding to {role} in the namespaces the subject works in"
        out.append(obj.finding("rbac-wide-binding", Severity.HIGH, ("roleRef", "name"), why, fix))
    for i, subject in enumerate(subjects):
        name = str(subject.get("name") or "")
        if name in ANONYMOUS or name == "system:authenticated":
            anonymous = name in ANONYMOUS
            severity = Severity.CRITICAL if anonymous else Severity.MEDIUM
            people = "unauthenticated users" if anonymous else "every authenticated user"
            why = f"binds {role or 'a role'} to {name}: {people} get it"
            fix = "bind named users, groups or service accounts instead"
            out.append(obj.finding("rbac-public-binding", severity, ("subjects", i), why, fix))
    return out


def _service_account_findings(obj: K8sObject) -> list[Finding]:
    if obj.value.get("automountServiceAccountToken") is False:
        return []
    key = "automountServiceAccountToken"
    at: PathKey = (key,) if key in obj.value else ("kind",)
    why = "automountServiceAccountToken is not false: every pod using it gets an API token"
    fix = "set automountServiceAccountToken: false; enable it only on pods that call the API"
    return [obj.finding("rbac-automount-token", Severity.MEDIUM, at, why, fix)]


def _pod_findings(obj: K8sObject, no_token: set[tuple[str, str]]) -> list[Finding]:
    spec_path = POD_SPEC_PATHS[obj.kind]
    spec = _get(obj.value, *(str(p) for p in spec_path))
    if not isinstance(spec, dict):
        return []
    setting = spec.get("automountServiceAccountToken")
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    fix = "set automountServiceAccountToken: false in the pod spec unless it calls the API"
    if setting is True:
        why = f"the pod spec mounts the API token of service account {account} explicitly"
        at: PathKey = (*spec_path, "automountServiceAccountToken")
        return [obj.finding("rbac-automount-token", Severity.MEDIUM, at, why, fix)]
    if setting is False or _token_off(no_token, obj.namespace, account):
        return []
    why = (
        f"pods mount the API token of service account {account}: automountServiceAccountToken "
        "is false neither in the pod spec nor on a ServiceAccount in the scanned manifests"
    )
    return [obj.finding("rbac-automount-token", Severity.MEDIUM, spec_path, why, fix)]


def _token_off(no_token: set[tuple[str, str]], namespace: str, account: str) -> bool:
    return any(
        name == account and (ns == namespace or not ns or not namespace) for ns, name in no_token
    )
