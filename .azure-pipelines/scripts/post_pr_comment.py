"""Post (or update) a pull-request comment thread on Azure Repos with a preview's output.

Used by .azure-pipelines/pr.yml, the equivalent of pulumi/actions' `comment-on-pr` on
GitHub. One thread per title: a new run edits its own earlier comment instead of
adding another. Standard library only (it runs before anything else is installed).

Needs the pipeline's token (`SYSTEM_ACCESSTOKEN: $(System.AccessToken)`) and the build
service identity's "Contribute to pull requests" permission on the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

API_VERSION = "7.1"
MAX_CHARS = 60_000  # Azure Repos rejects comments much over 150 KB; keep the tail
MARKER = "<!-- azure-mlops:{title} -->"

Send = Callable[[str, str, Mapping[str, Any] | None], Any]


def _request(token: str) -> Send:
    def send(method: str, url: str, body: Mapping[str, Any] | None) -> Any:
        if not url.startswith("https://"):
            raise ValueError(f"refusing a non-https URL: {url}")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (checked above)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (checked above)
            return json.loads(response.read() or b"null")

    return send


def render(title: str, output: str, status: str, extra: str = "") -> str:
    """The comment's Markdown: a marker, a heading with the job status, the output's tail, then
    ``extra`` (Markdown as is: the monthly cost block of `mlops infra cost --markdown`)."""
    text = output if len(output) <= MAX_CHARS else "…(truncated)…\n" + output[-MAX_CHARS:]
    fence = "~~~~" if "```" in text else "```"
    body = f"{MARKER.format(title=title)}\n#### {title} ({status})\n\n{fence}\n{text}\n{fence}\n"
    return body + (f"\n{extra.strip()}\n" if extra.strip() else "")


def post(send: Send, threads_url: str, title: str, content: str) -> str:
    """Edit this title's earlier comment, or start a new thread. Returns what was done."""
    marker = MARKER.format(title=title)
    listing = send("GET", f"{threads_url}?api-version={API_VERSION}", None) or {}
    for thread in listing.get("value", []):
        comments = thread.get("comments") or []
        if comments and marker in str(comments[0].get("content", "")):
            url = f"{threads_url}/{thread['id']}/comments/{comments[0]['id']}?api-version={API_VERSION}"
            send("PATCH", url, {"content": content})
            return "updated"
    body = {"comments": [{"parentCommentId": 0, "content": content, "commentType": 1}], "status": 1}
    send("POST", f"{threads_url}?api-version={API_VERSION}", body)
    return "created"


def threads_url(env: Mapping[str, str]) -> str:
    collection = env["SYSTEM_COLLECTIONURI"].rstrip("/")
    project = env["SYSTEM_TEAMPROJECT"]
    repository = env["BUILD_REPOSITORY_ID"]
    pull_request = env["SYSTEM_PULLREQUEST_PULLREQUESTID"]
    return f"{collection}/{project}/_apis/git/repositories/{repository}/pullRequests/{pull_request}/threads"


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--title", required=True)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--status", default="Succeeded")
    parser.add_argument("--extra", type=Path, help="Markdown to add after the output (if the file exists)")
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    if not env.get("SYSTEM_PULLREQUEST_PULLREQUESTID"):
        print("not a pull-request build: no comment")
        return 0
    output = args.file.read_text(errors="replace") if args.file.is_file() else "(no output)"
    extra = args.extra.read_text(errors="replace") if args.extra and args.extra.is_file() else ""
    done = post(
        _request(env["SYSTEM_ACCESSTOKEN"]),
        threads_url(env),
        args.title,
        render(args.title, output, args.status, extra),
    )
    print(f"comment {done}: {args.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
