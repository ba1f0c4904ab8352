"""``gonogo ci verify`` for GitLab CI: the job runs ``gonogo ci`` and nothing lets it off."""

from __future__ import annotations

from typing import Any

from gonogo.ci.shell import Finding, ignores_exit, runs_gonogo_ci

#: top-level keys of .gitlab-ci.yml that are not jobs
_RESERVED = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)


def verify_gitlab(
    document: dict[Any, Any], *, release_branch: str
) -> tuple[list[str], list[Finding]]:
    """The jobs running ``gonogo ci`` and every bypass in a GitLab CI file."""
    findings = _workflow_rules(document.get("workflow"))
    gated: list[str] = []
    for name, job in document.items():
        if not isinstance(job, dict) or str(name) in _RESERVED or str(name).startswith("."):
            continue
        script = _script(job.get("script"))
        if not runs_gonogo_ci(script):
            continue
        gated.append(str(name))
        findings += _job(str(name), job, script, release_branch)
    if not gated:
        findings.insert(
            0, Finding("jobs", "no job runs `gonogo ci`, so nothing requires the gates")
        )
    return gated, findings


def _script(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(str(line) for line in value)
    return str(value or "")


def _workflow_rules(workflow: object) -> list[Finding]:
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if not isinstance(rules, list):
        return []
    findings = []
    conditions = " ".join(str(r.get("if", "")) for r in rules if isinstance(r, dict))
    unconditional = any(
        isinstance(r, dict) and "if" not in r and r.get("when") != "never" for r in rules
    )
    if "merge_request_event" not in conditions and not unconditional:
        findings.append(
            Finding(
                "workflow.rules", "no rule runs merge request pipelines, so a red change can merge"
            )
        )
    for index, rule in enumerate(rules):
        if isinstance(rule, dict) and "changes" in rule:
            findings.append(
                Finding(
                    f"workflow.rules[{index}].changes", "a path filter skips pipelines; remove it"
                )
            )
    return findings


def _job(name: str, job: dict[str, Any], script: str, release_branch: str) -> list[Finding]:
    findings = []
    if job.get("allow_failure") not in (None, False):
        findings.append(
            Finding(f"{name}.allow_failure", "the job's failure is ignored, so red passes")
        )
    if job.get("when") in ("manual", "delayed", "never", "on_failure"):
        findings.append(Finding(f"{name}.when", f"`when: {job['when']}` lets the gates not run"))
    rules = job.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        at = f"{name}.rules[{index}]"
        if "changes" in rule:
            findings.append(Finding(f"{at}.changes", "a path filter skips the job; remove it"))
        if rule.get("when") == "manual":
            findings.append(Finding(f"{at}.when", "`when: manual` lets the gates not run"))
        if rule.get("allow_failure") not in (None, False):
            findings.append(Finding(f"{at}.allow_failure", "the job's failure is ignored"))
    for key in ("only", "except"):
        findings += _only_except(name, key, job.get(key), release_branch)
    if ignores_exit(script):
        findings.append(
            Finding(f"{name}.script", "the script ignores the exit code of `gonogo ci`")
        )
    return findings


def _only_except(name: str, key: str, value: object, release_branch: str) -> list[Finding]:
    if value is None:
        return []
    refs = value.get("refs") if isinstance(value, dict) else value
    findings = []
    if isinstance(value, dict) and "changes" in value:
        findings.append(Finding(f"{name}.{key}.changes", "a path filter skips the job; remove it"))
    if isinstance(refs, list):
        names = [str(r) for r in refs]
        if key == "only" and "merge_requests" not in names:
            findings.append(Finding(f"{name}.only", "does not run in merge request pipelines"))
        if key == "except" and ("merge_requests" in names or _covers(names, release_branch)):
            findings.append(
                Finding(
                    f"{name}.except", f"skips merge requests or release branches ({release_branch})"
                )
            )
    return findings


def _covers(refs: list[str], branch: str) -> bool:
    prefix = branch.split("/", 1)[0]
    return any(ref in ("branches", branch) or ref.strip("/^").startswith(prefix) for ref in refs)
