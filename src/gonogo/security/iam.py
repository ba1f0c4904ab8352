"""Least privilege in AWS IAM policy documents.

Finds policy documents anywhere in a JSON or YAML file: a bare policy, AWS CLI output,
CloudFormation (``PolicyDocument``), Terraform JSON (``policy`` strings and
``aws_iam_policy_document`` data sources). Trust policies (who may assume a role) are
left out. Reports ``*`` actions and resources, ``NotAction``/``NotResource`` with Allow,
``iam:PassRole`` on ``*``, and the well-known privilege-escalation sets, each with the
line of the statement that grants it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from gonogo.security.findings import Finding, Severity
from gonogo.security.iam_escalations import ESCALATIONS
from gonogo.security.located import LocatedDoc, PathKey

#: keys whose policy documents say who may assume a role, not what it may do
TRUST_KEYS = frozenset({"AssumeRolePolicyDocument", "assume_role_policy"})

#: Terraform ``aws_iam_policy_document`` keys → the policy-language names
TF_KEYS = {
    "actions": "Action",
    "not_actions": "NotAction",
    "resources": "Resource",
    "not_resources": "NotResource",
    "effect": "Effect",
    "sid": "Sid",
    "condition": "Condition",
}

READ_ONLY = re.compile(r"^[a-z0-9-]+:(get|list|describe|batchget|head|search|query|view)", re.I)


@dataclass(frozen=True)
class Statement:
    """One statement, normalised, with where it is."""

    index: int
    path: PathKey
    keys: dict[str, str]
    """Policy-language name (``Action``) → the key used in the file (``actions`` in Terraform)."""
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditional: bool
    sid: str
    public: bool = False
    """The Principal is everyone (``*`` or ``{"AWS": "*"}``)."""

    def at(self, name: str, item: str | None = None) -> PathKey:
        """Path of key ``name`` (and of ``item`` in its list) inside the document."""
        key = self.keys.get(name)
        if key is None:
            return self.path
        values = self.actions if name == "Action" else self.resources
        if item is not None and values is not None and item in values:
            return (*self.path, key, values.index(item))
        return (*self.path, key)

    @property
    def label(self) -> str:
        """``Statement[2] (Deploy)``: the index and the Sid."""
        return f"Statement[{self.index}]" + (f" ({self.sid})" if self.sid else "")

    def allows(self, action: str) -> bool:
        """Whether this Allow statement covers ``action``."""
        if self.effect != "allow":
            return False
        if self.not_actions is not None:
            return not _matches_any(self.not_actions, action)
        return _matches_any(self.actions or (), action)


@dataclass(frozen=True)
class Policy:
    """A policy document found in a file: its name, statements and where it is."""

    file: str
    doc: LocatedDoc
    name: str
    statements: tuple[Statement, ...]
    trust: bool = False
    """A trust policy: who may assume a role, not what the role may do."""
    unreadable: tuple[PathKey, ...] = ()
    """Where a ``Statement`` is neither a statement object nor a list of them."""

    def finding(self, rule: str, severity: Severity, at: PathKey, why: str, fix: str) -> Finding:
        """A finding at ``at`` inside this document."""
        return Finding(rule, severity, self.file, self.doc.line_of(at), why, fix, self.name)


def _matches_any(patterns: tuple[str, ...], action: str) -> bool:
    return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def policies(file: str, doc: LocatedDoc, default_name: str) -> Iterator[Policy]:
    """Every (non-trust) policy document inside ``doc``."""
    yield from _walk(file, doc, doc.value, (), default_name)


def _walk(
    file: str, doc: LocatedDoc, value: Any, path: PathKey, name: str, trust: bool = False
) -> Iterator[Policy]:
    if isinstance(value, dict):
        name = str(value.get("PolicyName") or name)
        statements = _statements(value, path)
        if statements is not None:
            yield Policy(file, doc, name, statements, trust, _unreadable(value, path))
            return
        for key, item in value.items():
            inner = name
            if (isinstance(item, dict) and "Type" in item) or path[-1:] in _TF_POLICY_RESOURCES:
                inner = key
            yield from _walk(file, doc, item, (*path, key), inner, trust or key in TRUST_KEYS)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(file, doc, item, (*path, i), name, trust)
    elif isinstance(value, str) and '"Statement"' in value and value.lstrip().startswith("{"):
        try:  # Terraform JSON keeps policies as JSON strings: every line is the string's line
            inner_value = json.loads(value)
        except json.JSONDecodeError:
            return
        inner_doc = LocatedDoc(inner_value, {}, doc.line_of(path))
        yield from _walk(file, inner_doc, inner_value, (), name, trust)


_TF_POLICY_RESOURCES = frozenset(
    {
        ("aws_iam_policy",),
        ("aws_iam_role_policy",),
        ("aws_iam_user_policy",),
        ("aws_iam_group_policy",),
    }
)


def _statements(value: dict[str, Any], path: PathKey) -> tuple[Statement, ...] | None:
    if "Statement" in value:
        raw, key = value["Statement"], "Statement"
    elif isinstance(value.get("statement"), list):
        raw, key = value["statement"], "statement"
    else:
        return None
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            at = (*path, key, i) if isinstance(raw, list) else (*path, key)
            out.append(_statement(i, at, item))
    return tuple(out)


def _unreadable(value: dict[str, Any], path: PathKey) -> tuple[PathKey, ...]:
    """Where the ``Statement`` of a policy document is no statement (``"Statement": 5``)."""
    key = "Statement" if "Statement" in value else "statement"
    raw = value[key]
    if isinstance(raw, list):
        return tuple((*path, key, i) for i, item in enumerate(raw) if not isinstance(item, dict))
    return () if isinstance(raw, dict) else ((*path, key),)


def _statement(index: int, path: PathKey, item: dict[str, Any]) -> Statement:
    keys = {TF_KEYS.get(k, k): k for k in item}
    norm = {TF_KEYS.get(k, k): v for k, v in item.items()}
    return Statement(
        index=index,
        path=path,
        keys=keys,
        effect=str(norm.get("Effect") or "Allow").lower(),
        actions=_strings(norm.get("Action")),
        not_actions=_strings(norm.get("NotAction")),
        resources=_strings(norm.get("Resource")),
        not_resources=_strings(norm.get("NotResource")),
        conditional=bool(norm.get("Condition")),
        sid=str(norm.get("Sid") or ""),
        public=_public(norm.get("Principal")),
    )


def _public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def analyse(policy: Policy) -> list[Finding]:
    """Every least-privilege finding in one policy document."""
    findings = [
        policy.finding(
            "iam-unreadable",
            Severity.HIGH,
            at,
            (
                f"Statement[{at[-1]}] is not a statement object"
                if isinstance(at[-1], int)
                else "Statement is neither a statement object nor a list of them"
            )
            + ": what this policy allows cannot be checked",
            "write each statement as an object with Effect, Action and Resource; "
            "AWS refuses the policy as it is",
        )
        for at in policy.unreadable
    ]
    if policy.trust:
        return findings + _trust_findings(policy)
    admin = False
    for st in policy.statements:
        found, is_admin = _statement_findings(policy, st)
        findings += found
        admin = admin or is_admin
    if not admin:  # an administrator policy already implies every escalation
        findings += _escalations(policy)
    return findings


def _trust_findings(policy: Policy) -> list[Finding]:
    out = []
    for st in policy.statements:
        if st.effect == "allow" and st.public and not st.conditional:
            why = f"{st.label} lets any AWS principal, in any account, assume the role"
            fix = "name the accounts, roles or services that may assume it, or add a Condition"
            at = (*st.path, st.keys.get("Principal", "Principal"))
            out.append(policy.finding("iam-public-trust", Severity.CRITICAL, at, why, fix))
    return out


def _statement_findings(policy: Policy, st: Statement) -> tuple[list[Finding], bool]:
    if st.effect != "allow":
        return [], False
    out: list[Finding] = []
    wide_resource = st.resources is not None and "*" in st.resources
    soften = " (a Condition applies)" if st.conditional else ""

    def sev(severity: Severity) -> Severity:
        return severity.lowered() if st.conditional else severity

    if st.not_actions is not None:
        escalating = sorted({a for e in ESCALATIONS for a in e.actions[:1] if st.allows(a)})
        severity = Severity.CRITICAL if escalating else Severity.HIGH
        also = (
            f", {', '.join(escalating[:3])} (privilege escalation) included" if escalating else ""
        )
        why = f"{st.label} allows every action except {', '.join(st.not_actions)}{also}{soften}"
        fix = "list the actions allowed with Action; keep NotAction for Deny statements"
        out.append(policy.finding("iam-not-action", sev(severity), st.at("NotAction"), why, fix))
    if st.not_resources is not None:
        why = f"{st.label} applies to every resource except {', '.join(st.not_resources)}{soften}"
        fix = "list the resources allowed with Resource; keep NotResource for Deny statements"
        out.append(
            policy.finding("iam-not-resource", sev(Severity.HIGH), st.at("NotResource"), why, fix)
        )
    actions = st.actions or ()
    if "*" in actions or "*:*" in actions:
        item = "*" if "*" in actions else "*:*"
        scope = "on every resource: full administrator" if wide_resource else "on its resources"
        why = f"{st.label} allows every action (*) {scope}{soften}"
        fix = "list the actions the identity calls (CloudTrail or IAM Access Analyzer show them)"
        out.append(
            policy.finding(
                "iam-wildcard-action", sev(Severity.CRITICAL), st.at("Action", item), why, fix
            )
        )
        return out, wide_resource and not st.conditional
    for pattern in actions:
        if pattern.endswith(":*"):
            why = f"{st.label} allows every {pattern[:-2]} action ({pattern}){soften}"
            fix = f"list the {pattern[:-2]} actions the identity calls"
            at = st.at("Action", pattern)
            out.append(policy.finding("iam-service-wildcard", sev(Severity.MEDIUM), at, why, fix))
    if wide_resource:
        read_only = bool(actions) and all(READ_ONLY.match(a) for a in actions)
        severity = Severity.LOW if read_only else Severity.MEDIUM
        what = ", ".join(actions) or "its actions"
        why = f"{st.label} allows {what} on every resource (*){soften}"
        fix = "name the resources by ARN; keep * only for actions that support no resource ARN"
        out.append(
            policy.finding("iam-wildcard-resource", sev(severity), st.at("Resource", "*"), why, fix)
        )
    if wide_resource and st.allows("iam:PassRole"):
        why = f"{st.label} allows iam:PassRole on every role (*){soften}"
        fix = "list the role ARNs it may pass, and add an iam:PassedToService condition"
        at = st.at("Action", _granting(st, "iam:PassRole"))
        out.append(policy.finding("iam-passrole-wildcard", sev(Severity.HIGH), at, why, fix))
    return out, False


def _granting(st: Statement, action: str) -> str | None:
    """The pattern in ``st``'s Action list that grants ``action``."""
    return next((p for p in st.actions or () if fnmatchcase(action.lower(), p.lower())), None)


def _denied(policy: Policy, action: str) -> bool:
    return any(
        st.effect == "deny"
        and not st.conditional
        and st.resources is not None
        and "*" in st.resources
        and _matches_any(st.actions or (), action)
        for st in policy.statements
    )


def _escalations(policy: Policy) -> list[Finding]:
    out = []
    for esc in ESCALATIONS:
        grants: list[Statement] = []
        for action in esc.actions:
            st = next((s for s in policy.statements if _grants(s, action)), None)
            if st is None or _denied(policy, action):
                break
            grants.append(st)
        else:
            first = grants[0]
            granting = [s for s in policy.statements if _grants(s, esc.actions[0])]
            if esc.others_only and all(_self_only(s) for s in granting):
                continue
            conditional = all(s.conditional for s in granting)
            severity = esc.severity.lowered() if conditional else esc.severity
            soften = " (a Condition applies)" if conditional else ""
            why = f"{_grant_text(esc.actions, grants)}: the holder can {esc.gives}{soften}"
            fix = (
                f"remove {' or '.join(esc.actions)}, or limit it to named resources "
                "with a permissions boundary"
            )
            at = first.at("Action", _granting(first, esc.actions[0]))
            out.append(policy.finding(esc.rule, severity, at, why, fix))
    return out


def _grant_text(actions: tuple[str, ...], grants: list[Statement]) -> str:
    """``Statement[1] (Deploy) allows iam:PassRole, ec2:RunInstances`` and so on."""
    by_statement: dict[str, list[str]] = {}
    for action, st in zip(actions, grants, strict=True):
        by_statement.setdefault(st.label, []).append(action)
    return " and ".join(f"{label} allows {', '.join(a)}" for label, a in by_statement.items())


def _grants(st: Statement, action: str) -> bool:
    """An Allow statement grants ``action`` by its Action list (NotAction is reported apart)."""
    return st.not_actions is None and st.allows(action)


def _self_only(st: Statement) -> bool:
    return bool(st.resources) and all("${aws:username}" in r for r in st.resources or ())
