"""Generate the CI job that runs ``gonogo ci``: GitHub Actions and GitLab CI.

The GitHub workflow follows supply-chain hygiene: a read-only token (uploading an
artifact needs no more), every action pinned to a full commit SHA with its version
in a comment, credentials not left in the checkout. Each generator returns the YAML
text and the repository settings that make the job *required*; a job that only
reports blocks nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from gonogo import __version__
from gonogo.errors import UsageError

Platform = Literal["github", "gitlab"]

#: the reports `gonogo ci` writes in the generated jobs
REPORT_DIR = "reports"
JUNIT_REPORT = f"{REPORT_DIR}/gonogo-ci.xml"
SARIF_REPORT = f"{REPORT_DIR}/gonogo-ci.sarif"
SUMMARY_REPORT = f"{REPORT_DIR}/gonogo-ci.md"
CI_COMMAND = f"gonogo ci --junit {JUNIT_REPORT} --sarif {SARIF_REPORT} --summary {SUMMARY_REPORT}"


@dataclass(frozen=True)
class PinnedAction:
    """An action at a full commit SHA, with the release tag that commit carries."""

    repo: str
    sha: str
    version: str

    def uses(self) -> str:
        """The ``uses:`` value with its version comment."""
        return f"{self.repo}@{self.sha}  # {self.version}"


#: actions the generated workflow uses, pinned by commit (update SHA and tag together)
PINNED_ACTIONS: dict[str, PinnedAction] = {
    "checkout": PinnedAction(
        "actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"
    ),
    "setup-python": PinnedAction(
        "actions/setup-python", "a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"
    ),
    "upload-artifact": PinnedAction(
        "actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"
    ),
}


#: what setup-python and a CI image accept as a version: 3.11, 3.x, 3.13-dev, pypy3.10
_PYTHON = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")


@dataclass(frozen=True)
class WorkflowOptions:
    """What varies between projects."""

    python: str = "3.11"
    install: str = "python -m pip install -e . gonogo"
    before: tuple[str, ...] = ()
    """Commands that produce the reports the gates read, run before ``gonogo ci``."""
    release_branches: str = "release/**"
    job: str = "gonogo"

    def __post_init__(self) -> None:
        """Refuse values that would write a job that cannot run."""
        if not _PYTHON.fullmatch(self.python):
            raise UsageError(
                f"--python {self.python!r} is not a Python version",
                hint="give one such as 3.11, 3.12 or pypy3.10",
            )
        for option, command in [("--install", self.install)] + [
            ("--before", command) for command in self.before
        ]:
            if not command.strip() or "\n" in command or "\r" in command:
                raise UsageError(
                    f"{option} {command!r} is not a command",
                    hint="give one command on one line (chain several with &&)",
                )
        if not self.release_branches.strip() or any(c.isspace() for c in self.release_branches):
            raise UsageError(
                f"--release-branches {self.release_branches!r} is not a branch pattern",
                hint="give a pattern without spaces, such as release/**",
            )


@dataclass(frozen=True)
class Generated:
    """A generated CI file and the settings that make its job required."""

    platform: Platform
    path: str
    """Where the file conventionally lives in the repository."""
    text: str
    settings: str


def generate(platform: Platform, options: WorkflowOptions | None = None) -> Generated:
    """The CI file for ``platform``."""
    options = options or WorkflowOptions()
    if platform == "github":
        return Generated(
            "github", ".github/workflows/gonogo.yml", github(options), _github_settings(options)
        )
    return Generated("gitlab", ".gitlab-ci.yml", gitlab(options), _gitlab_settings(options))


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def github(options: WorkflowOptions) -> str:
    """The GitHub Actions workflow."""
    pins = PINNED_ACTIONS
    steps = [
        f"      - uses: {pins['checkout'].uses()}",
        "        with:",
        "          fetch-depth: 0  # diff coverage compares with the base branch",
        "          persist-credentials: false",
        f"      - uses: {pins['setup-python'].uses()}",
        "        with:",
        f"          python-version: {_q(options.python)}",
        "          cache: pip",
        "      - name: Install",
        f"        run: {_q(options.install)}",
    ]
    for number, command in enumerate(options.before, start=1):
        steps += [f"      - name: Produce reports ({number})", f"        run: {_q(command)}"]
    steps += [
        "      - name: gonogo ci",
        f"        run: {CI_COMMAND}",
        "      - name: Upload reports",
        "        if: ${{ !cancelled() }}  # the reports matter most when the gates are red",
        f"        uses: {pins['upload-artifact'].uses()}",
        "        with:",
        "          name: gonogo-reports",
        f"          path: {REPORT_DIR}/",
        "          if-no-files-found: warn",
    ]
    lines = [
        f"# Generated by `gonogo ci init github` (gonogo {__version__}).",
        f"# The job {_q(options.job)} is the one blocking CI gate: it runs the policy's Phase-4",
        "# gates and fails when a required criterion is red. Make it a required status check",
        "# (the settings are printed by `gonogo ci init github`); check this file with",
        "# `gonogo ci verify`. Do not add `paths` filters or `if:` conditions to it: a",
        "# required check that does not run never reports and can let a change through.",
        "name: gonogo",
        "",
        "on:",
        "  pull_request:",
        "  push:",
        "    branches:",
        f"      - {_q(options.release_branches)}",
        "  merge_group:",
        "  workflow_dispatch:",
        "",
        "permissions:",
        "  contents: read  # all the job needs: uploading an artifact takes no token scope",
        "",
        "concurrency:",
        "  group: gonogo-${{ github.ref }}",
        "  cancel-in-progress: true",
        "",
        "jobs:",
        f"  {options.job}:",
        f"    name: {options.job}",
        "    runs-on: ubuntu-latest",
        "    timeout-minutes: 60",
        "    steps:",
        *steps,
    ]
    return "\n".join(lines) + "\n"


def gitlab(options: WorkflowOptions) -> str:
    """The GitLab CI configuration."""
    prefix = options.release_branches.split("*", 1)[0]
    regex = "/^" + prefix.replace("/", "\\/").replace(".", "\\.") + "/"
    script = [f"    - {_q(options.install)}"]
    script += [f"    - {_q(command)}" for command in options.before]
    script.append(f"    - {CI_COMMAND}")
    lines = [
        f"# Generated by `gonogo ci init gitlab` (gonogo {__version__}).",
        f"# The job {_q(options.job)} is the one blocking CI gate: it runs the policy's Phase-4",
        "# gates and fails when a required criterion is red. Require it with",
        '# "Pipelines must succeed" (printed by `gonogo ci init gitlab`); do not add',
        "# `rules: changes`, `allow_failure` or `when: manual` to it.",
        "workflow:",
        "  rules:",
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"',
        f"    - if: $CI_COMMIT_BRANCH =~ {regex}",
        "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
        "",
        f"{options.job}:",
        f"  image: python:{options.python}  # pin by digest (python@sha256:…) to freeze it",
        "  variables:",
        '    GIT_DEPTH: "0"  # diff coverage compares with the base branch',
        '    PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"',
        "  cache:",
        "    key:",
        "      files:",
        "        - pyproject.toml",
        "    paths:",
        "      - .cache/pip",
        "  script:",
        *script,
        "  artifacts:",
        "    when: always",
        "    paths:",
        f"      - {REPORT_DIR}/",
        "    reports:",
        f"      junit: {JUNIT_REPORT}",
        "    expire_in: 30 days",
    ]
    return "\n".join(lines) + "\n"


def ruleset(options: WorkflowOptions) -> dict[str, object]:
    """A GitHub repository ruleset that requires the job on the default and release branches."""
    return {
        "name": "gonogo required",
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": [],
        "conditions": {
            "ref_name": {
                "include": ["~DEFAULT_BRANCH", f"refs/heads/{options.release_branches}"],
                "exclude": [],
            }
        },
        "rules": [
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": 1,
                    "dismiss_stale_reviews_on_push": True,
                    "require_code_owner_review": False,
                    "require_last_push_approval": False,
                    "required_review_thread_resolution": False,
                },
            },
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": True,
                    "required_status_checks": [{"context": options.job}],
                },
            },
        ],
    }


def _github_settings(options: WorkflowOptions) -> str:
    body = json.dumps(ruleset(options), indent=2)
    return "\n".join(
        [
            f"Make {_q(options.job)} a required check, or it only reports and blocks nothing:",
            "",
            "  Settings → Rules → Rulesets → New branch ruleset",
            f"    Target branches: the default branch and {options.release_branches}",
            "    Bypass list: empty",
            "    Restrict deletions; Block force pushes",
            "    Require a pull request before merging (1 approval, dismiss stale approvals)",
            f"    Require status checks to pass: add {_q(options.job)} (the job's name), and",
            "      require branches to be up to date before merging",
            "",
            "Or with the GitHub CLI (replace OWNER/REPO):",
            "",
            "gh api --method POST repos/OWNER/REPO/rulesets --input - <<'EOF'",
            body,
            "EOF",
            "",
        ]
    )


def _gitlab_settings(options: WorkflowOptions) -> str:
    pattern = options.release_branches.replace("**", "*")
    return "\n".join(
        [
            f"Make {_q(options.job)} required, or it only reports and blocks nothing:",
            "",
            "  Settings → Merge requests → Merge checks: Pipelines must succeed",
            f"  Settings → Repository → Protected branches: protect {pattern} and the default",
            "    branch: Allowed to merge: Maintainers; Allowed to push and merge: No one;",
            "    Allowed to force push: off",
            "",
            "Or with the API (replace PROJECT_ID; a token with the api scope in $TOKEN):",
            "",
            '  curl --fail -X PUT -H "PRIVATE-TOKEN: $TOKEN" \\',
            '    "$CI_API_V4_URL/projects/PROJECT_ID?only_allow_merge_if_pipeline_succeeds=true"',
            '  curl --fail -X POST -H "PRIVATE-TOKEN: $TOKEN" \\',
            '    "$CI_API_V4_URL/projects/PROJECT_ID/protected_branches" \\',
            f'    --data-urlencode "name={pattern}" \\',
            "    -d push_access_level=0 -d merge_access_level=40",
            "",
        ]
    )
