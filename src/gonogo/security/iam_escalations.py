"""The well-known AWS IAM privilege-escalation sets the IAM analysis looks for.

Each set lists actions that together let an identity gain privileges it was not given
(after Rhino Security Labs' and Bishop Fox's catalogues of IAM escalation paths).
"""

from __future__ import annotations

from dataclasses import dataclass

from gonogo.security.findings import Severity


@dataclass(frozen=True)
class Escalation:
    """A set of permissions that together let the holder gain more privileges."""

    rule: str
    actions: tuple[str, ...]
    severity: Severity
    gives: str
    others_only: bool = False
    """Only a finding when not limited to the caller's own user (``${aws:username}``)."""


ESCALATIONS = (
    Escalation(
        "iam-privesc-policy-version",
        ("iam:CreatePolicyVersion",),
        Severity.CRITICAL,
        "publish a new default version of a managed policy that grants anything",
    ),
    Escalation(
        "iam-privesc-default-version",
        ("iam:SetDefaultPolicyVersion",),
        Severity.HIGH,
        "switch a managed policy back to an older, possibly wider version",
    ),
    *(
        Escalation(
            f"iam-privesc-{verb.lower()}-{who.lower()}-policy",
            (f"iam:{verb}{who}Policy",),
            Severity.CRITICAL,
            f"give a {who.lower()} any policy, AdministratorAccess included",
        )
        for verb in ("Attach", "Put")
        for who in ("User", "Group", "Role")
    ),
    Escalation(
        "iam-privesc-add-user-to-group",
        ("iam:AddUserToGroup",),
        Severity.HIGH,
        "join any group and gain its permissions",
    ),
    Escalation(
        "iam-privesc-access-key",
        ("iam:CreateAccessKey",),
        Severity.HIGH,
        "create access keys for other users and act as them",
        others_only=True,
    ),
    *(
        Escalation(
            f"iam-privesc-{verb.lower()}-login-profile",
            (f"iam:{verb}LoginProfile",),
            Severity.HIGH,
            "set console passwords for other users and sign in as them",
            others_only=True,
        )
        for verb in ("Create", "Update")
    ),
    Escalation(
        "iam-privesc-trust-policy",
        ("iam:UpdateAssumeRolePolicy", "sts:AssumeRole"),
        Severity.CRITICAL,
        "make any role trust it, then assume that role",
    ),
    Escalation(
        "iam-privesc-lambda",
        ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"),
        Severity.CRITICAL,
        "run code under any role it may pass, through a new Lambda function",
    ),
    Escalation(
        "iam-privesc-lambda-event-source",
        ("iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
        Severity.CRITICAL,
        "run code under any role it may pass, through a Lambda triggered by an event source",
    ),
    Escalation(
        "iam-privesc-lambda-code",
        ("lambda:UpdateFunctionCode",),
        Severity.HIGH,
        "replace the code of existing functions and use their roles",
    ),
    Escalation(
        "iam-privesc-ec2",
        ("iam:PassRole", "ec2:RunInstances"),
        Severity.CRITICAL,
        "launch an instance with any role it may pass and read its credentials",
    ),
    Escalation(
        "iam-privesc-glue",
        ("iam:PassRole", "glue:CreateDevEndpoint"),
        Severity.CRITICAL,
        "create a Glue endpoint with any role it may pass and log in to it",
    ),
    Escalation(
        "iam-privesc-glue-update",
        ("glue:UpdateDevEndpoint",),
        Severity.HIGH,
        "add its SSH key to existing Glue endpoints and use their roles",
    ),
    Escalation(
        "iam-privesc-cloudformation",
        ("iam:PassRole", "cloudformation:CreateStack"),
        Severity.CRITICAL,
        "create a stack that runs as any role it may pass",
    ),
    Escalation(
        "iam-privesc-datapipeline",
        ("iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"),
        Severity.CRITICAL,
        "run a pipeline under any role it may pass",
    ),
)
