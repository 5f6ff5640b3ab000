"""The unlock agent: unlock a vault once, then serve its values to the same user for a while.

- protocol.py — where the socket lives (private runtime folder, one per vault) and the JSON lines on it
- server.py   — the agent process: holds the data key, answers get/read/edit, logs every answer
- client.py   — what commands use: ask the agent first (Context.read/edit/value), else unlock as usual
- starter.py  — `tokensafe unlock`: unlock in the foreground, hand the key to a new agent over a pipe

The agent never hands out the key. See SECURITY.md, "The unlock agent and the access log".
"""
