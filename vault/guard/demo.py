"""The sync guard's part of `tokensafe demo`: audit, scrub and restore a Postman export."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from vault.demo_tokens import auth0_mgmt_jwt
from vault.formats import postman_env


def guard_demo(run: Any, workdir: Path) -> None:
    """`run(args, expect_code=…)` runs and shows one `tokensafe …` line; `run.say` narrates."""
    # The guard's fingerprint key goes in the throwaway folder, not the user's data dir.
    run.env.setdefault("TOKENSAFE_GUARD_KEY", str(workdir / "guard.key"))
    domain = "demo-staging.eu.auth0.com"
    downloads = workdir / "Downloads"
    downloads.mkdir(exist_ok=True)
    export = downloads / "staging.postman_environment.json"
    export.write_text(postman_env.render("staging", {
        "auth0_domain": domain,
        "auth0_token": auth0_mgmt_jwt(domain),
        "auth0_client_secret": hashlib.sha256(b"demo").hexdigest()[:48] + "Xy9_",
    }, kinds={"auth0_domain": "domain"}))
    original = export.read_bytes()
    rel = str(export.relative_to(workdir))
    run.say("A Postman export in Downloads. Postman's `secret` type only hides values on "
            "screen: the file holds them in clear. `audit` finds them, worst first (exit 1).")
    run(f"audit {downloads.name}", expect_code=1)
    run.say("Move the values into the vault; --scrub leaves {{vault:name}} references behind "
            "and keeps the original, encrypted, in the vault.")
    run(f"import {rel} --env staging --scrub")
    for v in postman_env.variables(export.read_bytes()):
        print(f"  {export.name}: {v.key} = {v.value}")
    run.say("Audited again: nothing left to find.")
    run(f"audit {downloads.name}")
    run.say("`restore` brings the file back byte for byte (e.g. to re-import it elsewhere).")
    run(f"restore {rel}")
    print(f"  byte-for-byte equal to the original: {export.read_bytes() == original}")
    run.say("To keep watching Downloads and the current folder as files arrive:\n"
            "#   tokensafe watch --action quarantine      (or --action scrub, or --json)\n"
            "# and in a git repo, `tokensafe audit --staged` as a pre-commit hook "
            "(.pre-commit-hooks.yaml: id tokensafe-audit).")
