"""`python -m vault.agent`: the unlock agent's process (see vault.agent.server)."""

import sys

from vault.agent.server import main

sys.exit(main())
