#!/usr/bin/env python3
# ruff: noqa
# (kept as received apart from these two lines and, for issue #10, --formats, index.json and add_labelled;
#  without --formats its output is unchanged: it is what the README's figures measure)
"""Synthetic corpus for benchmarking secret scanners (deterministic).

    python3 gen.py OUTDIR [--size-mb 200] [--seed 1] [--plant-rate 0.005] [--formats auth0|all|new]

Writes OUTDIR/corpus/** (mixed realistic files) and OUTDIR/manifest.json:
  {"files": N, "bytes": B, "plants": [{"file", "line", "kind", "ftype", "value"}],
   "decoys": [{"file", "line", "kind"}]}
`file` is relative to OUTDIR/corpus, `line` is 1-based.
Planted kinds: jwt_auth0_mgmt (RS256 Auth0 Management API token), jwt_access (HS256/RS256
access/id token), bearer_opaque (Authorization: Bearer <opaque>), client_secret64 (Auth0-style
64-char client secret).  Decoys (not secrets): UUIDs, hex hashes, sha512 integrity strings,
base64 images, Auth0 client IDs, the public jwt.io example token, placeholders, {{templated}} values.
"""
import argparse
import base64
import json
import os
import random
import string
import uuid as uuidlib

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
JWT_IO_EXAMPLE = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
                  "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
WORDS = ("user account order invoice payment customer product item cart session profile role permission "
         "tenant client token config service handler request response cache queue event message retry "
         "timeout limit offset page filter sort status error result value data record entry batch job "
         "worker task schedule report metric audit export import sync fetch update delete create list "
         "get set build parse render format validate check load save open close start stop reset "
         "email name address phone country city region zone domain host port path route api v2 admin "
         "billing shipping catalog inventory search index auth login logout signup refresh callback").split()
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "piedpiper", "stark", "wayne", "wonka", "tyrell"]
REGIONS = ["eu", "us", "au", "jp"]
_RES = ("client_grants users users_app_metadata user_custom_blocks clients client_keys connections resource_servers "
        "device_credentials rules rules_configs hooks actions email_provider stats insights tenant_settings logs "
        "logs_users shields anomaly_blocks triggers grants guardian_factors guardian_enrollments custom_domains "
        "email_templates mfa_policies roles prompts branding log_streams signing_keys limits role_members "
        "entitlements attack_protection organizations organization_members organization_connections "
        "organization_member_roles organization_invitations").split()
MGMT_SCOPES = " ".join("%s:%s" % (v, r) for r in _RES for v in ("read", "create", "update", "delete"))
MGMT_SCOPES = MGMT_SCOPES[:MGMT_SCOPES.rfind(" ", 0, 2300)]  # token ~3.6 KB


class G:
    def __init__(self, seed):
        self.r = random.Random(seed)

    # ---- primitives -------------------------------------------------------
    def uuid(self):
        return str(uuidlib.UUID(int=self.r.getrandbits(128), version=4))

    def hexs(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def chars(self, alphabet, n):
        return "".join(self.r.choices(alphabet, k=n))

    def b64url(self, nbytes):
        return base64.urlsafe_b64encode(self.r.randbytes(nbytes)).rstrip(b"=").decode()

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def word(self):
        return self.r.choice(WORDS)

    def ident(self, parts=2, style="snake"):
        ws = [self.word() for _ in range(parts)]
        if style == "camel":
            return ws[0] + "".join(w.capitalize() for w in ws[1:])
        if style == "pascal":
            return "".join(w.capitalize() for w in ws)
        return "_".join(ws)

    def sentence(self, n=None):
        n = n or self.r.randint(4, 12)
        return " ".join(self.word() for _ in range(n)).capitalize() + "."

    def tenant(self):
        return "%s-%s" % (self.r.choice(TENANTS), self.r.choice(["dev", "prod", "staging", "test"]))

    def domain(self, t=None):
        return "%s.%s.auth0.com" % (t or self.tenant(), self.r.choice(REGIONS))

    def client_id(self):  # Auth0 client ids: 32 alnum (public, NOT a secret -> decoy)
        return self.chars(ALNUM, 32)

    def ts(self):
        return 1700000000 + self.r.randint(0, 30000000)

    def iso(self):
        t = self.ts()
        import time
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % self.r.randint(0, 999)

    # ---- secrets ----------------------------------------------------------
    @staticmethod
    def _seg(obj):
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    def jwt_auth0_mgmt(self):
        d = self.domain()
        cid = self.client_id()
        iat = self.ts()
        hdr = {"alg": "RS256", "typ": "JWT", "kid": self.b64url(18)}
        # half are M2M tokens with a few scopes (~0.9 KB), half carry every Management API scope
        # (~3-4 KB, what the dashboard's API Explorer issues)
        scope = MGMT_SCOPES if self.r.random() < 0.5 else "read:users update:users read:clients read:logs"
        pl = {"iss": "https://%s/" % d, "sub": cid + "@clients", "aud": "https://%s/api/v2/" % d,
              "iat": iat, "exp": iat + 86400, "scope": scope, "gty": "client-credentials", "azp": cid}
        return "%s.%s.%s" % (self._seg(hdr), self._seg(pl), self.b64url(256))

    def jwt_access(self):
        d = self.domain()
        iat = self.ts()
        rs = self.r.random() < 0.5
        hdr = {"alg": "RS256", "typ": "JWT", "kid": self.b64url(18)} if rs else {"alg": "HS256", "typ": "JWT"}
        pl = {"iss": "https://%s/" % d, "sub": "auth0|" + self.hexs(24), "aud": ["https://api.%s.example.com" % self.word(),
              "https://%s/userinfo" % d], "iat": iat, "exp": iat + 3600, "azp": self.client_id(),
              "scope": "openid profile email offline_access"}
        return "%s.%s.%s" % (self._seg(hdr), self._seg(pl), self.b64url(256 if rs else 32))

    def bearer_opaque(self):
        return self.chars(ALNUM, self.r.choice([32, 40, 43, 48]))

    def client_secret64(self):
        return self.chars(B64URL, 64)

    def secret(self, kind):
        return getattr(self, kind)()


# ---------------------------------------------------------------------------
# File builders.  Each returns (text_or_bytes, [(kind, value)], [(decoy_kind, value)])
# `plants` is a list of kinds to embed.
# ---------------------------------------------------------------------------

def postman_env(g, target, plants):
    t = g.tenant()
    d = g.domain(t)
    vals, planted, decoys = [], [], []

    def v(k, val, typ="default"):
        vals.append({"key": k, "value": val, "type": typ, "enabled": True})
    v("baseUrl", "https://api.%s.example.com" % t)
    v("auth0_domain", d)
    cid = g.client_id()
    v("auth0_client_id", cid)
    decoys.append(("auth0_client_id", cid))
    v("auth0_audience", "https://%s/api/v2/" % d)
    kinds = list(plants)
    for k in kinds:
        s = g.secret(k)
        key = {"jwt_auth0_mgmt": "auth0_mgmt_token", "jwt_access": "access_token",
               "bearer_opaque": "api_token", "client_secret64": "auth0_client_secret"}[k]
        v(key, s, "secret")
        planted.append((k, s))
    if "client_secret64" not in kinds:
        v("auth0_client_secret", "", "secret")
    if not any(k.startswith("jwt") for k in kinds):
        v("auth0_token", "", "secret")
    uid = "auth0|" + g.hexs(24)
    v("user_id", uid)
    v("request_id", g.uuid())
    v("test_user_email", "%s.%s@example.com" % (g.word(), g.word()))
    while len(json.dumps(vals)) < target - 300:
        v(g.ident(), g.r.choice([g.uuid(), str(g.r.randint(1, 10 ** 6)), "{{%s}}" % g.ident(),
                                 "https://%s.example.com/%s" % (g.word(), g.word()), g.sentence(3), g.hexs(40)]))
        if g.r.random() < 0.2:
            h = g.hexs(40)
            v(g.ident() + "_sha", h)
            decoys.append(("hex40", h))
    doc = {"id": g.uuid(), "name": "%s %s" % (t, g.r.choice(["Auth0", "API", "Mgmt", "Env"])), "values": vals,
           "_postman_variable_scope": "environment", "_postman_exported_at": g.iso(),
           "_postman_exported_using": "Postman/10.%d.%d" % (g.r.randint(10, 24), g.r.randint(0, 9))}
    return json.dumps(doc, indent="\t"), planted, decoys


def _pm_request(g, hdr_value=None, body_secret=None):
    method = g.r.choice(["GET", "POST", "PATCH", "DELETE", "PUT"])
    path = [g.word() for _ in range(g.r.randint(1, 4))]
    headers = [{"key": "Content-Type", "value": "application/json"},
               {"key": "X-Request-Id", "value": g.uuid()}]
    if hdr_value:
        headers.append({"key": "Authorization", "value": hdr_value})
    elif g.r.random() < 0.5:
        headers.append({"key": "Authorization", "value": "Bearer {{auth0_token}}"})
    body = {g.ident(): g.r.choice([g.uuid(), g.sentence(), g.r.randint(1, 9999), True]) for _ in range(g.r.randint(2, 8))}
    if body_secret:
        body = {"client_id": g.client_id(), "client_secret": body_secret, "audience": "https://%s/api/v2/" % g.domain(),
                "grant_type": "client_credentials"}
    req = {"method": method, "header": headers,
           "body": {"mode": "raw", "raw": json.dumps(body, indent=2), "options": {"raw": {"language": "json"}}},
           "url": {"raw": "{{baseUrl}}/" + "/".join(path), "host": ["{{baseUrl}}"], "path": path}}
    resp = []
    if g.r.random() < 0.6:
        rb = [{g.ident(): g.uuid(), "created_at": g.iso(), "etag": g.hexs(32), "name": g.sentence(2)}
              for _ in range(g.r.randint(1, 12))]
        resp.append({"name": "200 OK", "originalRequest": {"method": method, "header": [], "url": req["url"]},
                     "status": "OK", "code": 200, "_postman_previewlanguage": "json",
                     "header": [{"key": "Date", "value": "Mon, 01 Jan 2024 10:00:00 GMT"},
                                {"key": "ETag", "value": 'W/"%s"' % g.hexs(32)}],
                     "cookie": [], "body": json.dumps(rb, indent=4)})
    item = {"name": "%s %s" % (method.title(), " ".join(path)), "request": req, "response": resp}
    if g.r.random() < 0.3:
        item["event"] = [{"listen": "test", "script": {"exec": [
            "pm.test(\"Status code is 200\", function () {", "    pm.response.to.have.status(200);", "});",
            "pm.environment.set(\"%s\", pm.response.json().id);" % g.ident()], "type": "text/javascript"}}]
    return item


def postman_collection(g, target, plants):
    planted, decoys = [], []
    items = []
    auth = {"type": "bearer", "bearer": [{"key": "token", "value": "{{auth0_token}}", "type": "string"}]}
    for k in plants:
        s = g.secret(k)
        planted.append((k, s))
        if k == "client_secret64":
            items.append(_pm_request(g, body_secret=s))
        elif k == "bearer_opaque":
            items.append(_pm_request(g, hdr_value="Bearer " + s))
        elif k == "jwt_auth0_mgmt":  # hard-coded collection-level bearer auth: value on its own line
            auth = {"type": "bearer", "bearer": [{"key": "token", "value": s, "type": "string"}]}
        else:
            items.append(_pm_request(g, hdr_value="Bearer " + s))
    size = 0
    while size < target:
        it = _pm_request(g)
        size += len(json.dumps(it)) + 200
        items.append(it)
    g.r.shuffle(items)
    doc = {"info": {"_postman_id": g.uuid(), "name": "%s API" % g.ident(2, "pascal"),
                    "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                    "_exporter_id": str(g.r.randint(10 ** 6, 10 ** 8))},
           "item": items, "auth": auth,
           "variable": [{"key": "baseUrl", "value": "https://api.example.com"}]}
    return json.dumps(doc, indent="\t"), planted, decoys


def dotenv(g, target, plants):
    planted, decoys = [], []
    example = not plants and g.r.random() < 0.4
    t = g.tenant()
    lines = ["# %s" % g.sentence(), "NODE_ENV=%s" % g.r.choice(["development", "production"]),
             "PORT=%d" % g.r.randint(3000, 9000), "AUTH0_DOMAIN=%s" % g.domain(t)]
    cid = g.client_id()
    lines.append("AUTH0_CLIENT_ID=%s" % cid)
    decoys.append(("auth0_client_id", cid))
    names = {"jwt_auth0_mgmt": "AUTH0_MGMT_API_TOKEN", "jwt_access": "ACCESS_TOKEN",
             "bearer_opaque": "API_BEARER_TOKEN", "client_secret64": "AUTH0_CLIENT_SECRET"}
    for k in plants:
        s = g.secret(k)
        lines.append("%s=%s" % (names[k], s) if g.r.random() < 0.7 else '%s="%s"' % (names[k], s))
        planted.append((k, s))
    if example:
        lines += ["AUTH0_CLIENT_SECRET=your-client-secret-here", "AUTH0_MGMT_API_TOKEN=<paste token>",
                  "DATABASE_URL=postgres://app:changeme@localhost:5432/app"]
        decoys.append(("placeholder", "your-client-secret-here"))
    lines += ["REDIS_URL=redis://localhost:6379/0", "LOG_LEVEL=info", "SENTRY_RELEASE=%s" % g.hexs(40),
              "FEATURE_FLAGS=%s" % ",".join(g.word() for _ in range(4)), "TENANT_ID=%s" % g.uuid()]
    while sum(len(x) + 1 for x in lines) < target:
        lines.append("%s=%s" % (g.ident(2).upper(), g.r.choice([g.word(), str(g.r.randint(0, 999)), g.uuid(), "true"])))
    return "\n".join(lines) + "\n", planted, decoys


def yaml_config(g, target, plants):
    planted, decoys = [], []
    lines = ["# generated config", "service:", "  name: %s" % g.ident(), "  replicas: %d" % g.r.randint(1, 9),
             "  image: registry.example.com/%s@sha256:%s" % (g.word(), g.hexs(64)), "auth0:",
             "  domain: %s" % g.domain(), "  client_id: %s" % g.client_id()]
    if "client_secret64" in plants:
        s = g.client_secret64()
        lines.append("  client_secret: %s" % s)
        planted.append(("client_secret64", s))
    else:
        lines.append("  client_secret: ${AUTH0_CLIENT_SECRET}")
    for k in plants:
        if k == "client_secret64":
            continue
        s = g.secret(k)
        lines.append("  %s: %s" % ({"bearer_opaque": "api_token", "jwt_access": "access_token"}.get(k, "management_token"), s))
        planted.append((k, s))
    while sum(len(x) + 1 for x in lines) < target:
        lines.append("%s:" % g.ident())
        for _ in range(g.r.randint(2, 6)):
            lines.append("  %s: %s" % (g.ident(1), g.r.choice([g.word(), str(g.r.randint(0, 99999)), g.uuid(),
                                                              "\"%s\"" % g.sentence(3), "sha1:" + g.hexs(40)])))
    return "\n".join(lines) + "\n", planted, decoys


def source(g, target, plants):
    planted, decoys = [], []
    lang = g.r.choice(["py", "js", "ts", "go"])
    out = []
    if lang == "py":
        out.append("import os\nimport json\nimport hashlib\nimport requests\n\n")
    elif lang == "go":
        out.append("package %s\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\n" % g.word())
    else:
        out.append("'use strict';\nconst axios = require('axios');\n\n")
    blocks = []
    for k in plants:
        s = g.secret(k)
        planted.append((k, s))
        name = {"jwt_auth0_mgmt": "MGMT_TOKEN", "jwt_access": "ACCESS_TOKEN", "bearer_opaque": "API_TOKEN",
                "client_secret64": "CLIENT_SECRET"}[k]
        if lang == "py":
            blocks.append('%s = "%s"\n' % (name, s) if k != "bearer_opaque" else
                          'HEADERS = {"Authorization": "Bearer %s"}\n' % s)
        elif lang == "go":
            blocks.append('const %s = "%s"\n' % (name.title().replace("_", ""), s) if k != "bearer_opaque" else
                          'req.Header.Set("Authorization", "Bearer %s")\n' % s)
        else:
            blocks.append("const %s = '%s';\n" % (name.lower().replace("_t", "T").replace("_s", "S"), s) if k != "bearer_opaque"
                          else "headers: { Authorization: 'Bearer %s' },\n" % s)
    size = sum(map(len, out))
    tests = g.r.random() < 0.03
    while size < target:
        fn = g.ident(2, "snake" if lang == "py" else "camel")
        a, b = g.ident(1), g.ident(1)
        r = g.r.random()
        if lang == "py":
            body = ['def %s(%s, %s=None):\n' % (fn, a, b), '    """%s"""\n' % g.sentence()]
            if r < 0.1:
                h = g.hexs(64)
                body.append('    expected = "%s"  # sha256 of fixture\n' % h)
                decoys.append(("hex64", h))
            if r > 0.9:
                body.append('    password = os.environ.get("%s_PASSWORD")\n' % g.word().upper())
            body.append('    %s = {"id": "%s", "kind": "%s"}\n' % (b, g.uuid(), g.word()))
            for _ in range(g.r.randint(2, 8)):
                body.append('    if %s.get("%s"):\n        %s = %s(%s)\n' % (b, g.word(), a, g.ident(2), a))
            body.append('    return %s\n\n\n' % a)
        elif lang == "go":
            body = ['// %s %s\nfunc %s(%s string) (string, error) {\n' % (fn, g.sentence(), fn, a)]
            if r < 0.1:
                h = g.hexs(40)
                body.append('\tconst commit = "%s"\n' % h)
                decoys.append(("hex40", h))
            for _ in range(g.r.randint(2, 8)):
                body.append('\tif %s == "%s" {\n\t\treturn fmt.Sprintf("%%s-%s", %s), nil\n\t}\n' % (a, g.word(), g.word(), a))
            body.append('\treturn "%s", nil\n}\n\n' % g.uuid())
        else:
            body = ['/** %s */\nasync function %s(%s, %s) {\n' % (g.sentence(), fn, a, b)]
            if r < 0.1:
                h = "sha512-" + g.b64(64)
                body.append("  const integrity = '%s';\n" % h)
                decoys.append(("sha512_b64", h))
            for _ in range(g.r.randint(2, 8)):
                body.append("  if (%s.%s) { %s = await %s(%s, '%s'); }\n" % (b, g.word(), a, g.ident(2, "camel"), a, g.uuid()))
            body.append("  return %s;\n}\n\n" % a)
        blk = "".join(body)
        if tests and g.r.random() < 0.05:
            blk += ('# example token from jwt.io docs\nSAMPLE_JWT = "%s"\n\n' % JWT_IO_EXAMPLE if lang == "py" else
                    '// example token from jwt.io docs\nconst sampleJwt = "%s"\n\n' % JWT_IO_EXAMPLE)
            decoys.append(("jwt_io_example", JWT_IO_EXAMPLE))
        blocks.append(blk)
        size += len(blk)
    head, rest = blocks[:len(plants)], blocks[len(plants):]
    for b in head:  # put plants at random positions
        rest.insert(g.r.randint(0, len(rest)), b)
    return "".join(out + rest), planted, decoys, lang


def logfile(g, target, plants):
    planted, decoys = [], []
    lines = []
    size = 0
    svc = [g.word() + "-svc" for _ in range(5)]
    plant_at = sorted(g.r.randint(0, max(1, target // 160)) for _ in plants)
    pi = 0
    n = 0
    levels = ["INFO"] * 8 + ["DEBUG", "WARN", "ERROR"]
    while size < target or pi < len(plants):
        while pi < len(plants) and n >= plant_at[pi]:
            k = plants[pi]
            s = g.secret(k)
            planted.append((k, s))
            if k == "client_secret64":
                ln = "%s DEBUG [%s] token request body: grant_type=client_credentials&client_id=%s&client_secret=%s" % (
                    g.iso(), g.r.choice(svc), g.client_id(), s)
            else:
                ln = "%s DEBUG [%s] outgoing request GET https://%s/api/v2/users headers={'Authorization': 'Bearer %s', 'Accept': 'application/json'}" % (
                    g.iso(), g.r.choice(svc), g.domain(), s)
            lines.append(ln)
            size += len(ln) + 1
            pi += 1
        r = g.r.random()
        if r < 0.02:
            ln = "%s WARN [%s] cache miss key=%s etag=%s" % (g.iso(), g.r.choice(svc), g.hexs(64), g.hexs(32))
        elif r < 0.04:
            ln = "%s INFO [deploy] release=%s commit=%s image=sha256:%s" % (g.iso(), g.word(), g.hexs(40), g.hexs(64))
        else:
            ln = "%s %s [%s] req_id=%s %s /%s/%s status=%d dur=%dms user=auth0|%s trace=%s" % (
                g.iso(), g.r.choice(levels), g.r.choice(svc), g.uuid(), g.r.choice(["GET", "POST", "PUT"]),
                g.word(), g.word(), g.r.choice([200, 200, 200, 201, 204, 400, 401, 404, 500]), g.r.randint(1, 3000),
                g.hexs(24), g.hexs(32))
        lines.append(ln)
        size += len(ln) + 1
        n += 1
    return "\n".join(lines) + "\n", planted, decoys


def png_b64(g, n):
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + g.r.randbytes(n)).decode()


def minjs(g, target, plants):
    planted, decoys = [], []
    parts = ["/*! %s v%d.%d.%d | MIT */\n" % (g.word(), g.r.randint(0, 9), g.r.randint(0, 20), g.r.randint(0, 20))]
    size = len(parts[0])
    pos = set(g.r.randint(5, max(6, target // 300)) for _ in plants)
    pl = list(plants)
    i = 0
    while size < target or pl:
        if pl and (i in pos or size >= target):
            k = pl.pop()
            s = g.secret(k)
            planted.append((k, s))
            if k == "client_secret64":
                p = 'var Hx={domain:"%s",clientId:"%s",clientSecret:"%s",audience:"https://%s/api/v2/"};' % (
                    g.domain(), g.client_id(), s, g.domain())
            else:
                p = 'fetch(e+"/api/v2/users",{headers:{Authorization:"Bearer %s"}}).then(function(t){return t.json()});' % s
        else:
            r = g.r.random()
            a, b, c = (g.chars(string.ascii_letters, g.r.randint(1, 2)) for _ in range(3))
            if r < 0.01:
                d = png_b64(g, g.r.randint(500, 6000))
                p = '%s.src="data:image/png;base64,%s";' % (a, d)
                decoys.append(("b64_image", d[:40]))
            elif r < 0.03:
                p = 'var %s="%s",%s="%s";' % (a, g.hexs(64), b, g.uuid())
            else:
                p = "function %s(%s,%s){return %s.%s(%s,\"%s\")||%s&&%s.%s}" % (
                    g.ident(1) + a, b, c, b, g.ident(2, "camel"), c, g.word(), c, b, g.word())
        if g.r.random() < 0.0005:
            p += "\n"
        parts.append(p)
        size += len(p)
        i += 1
    return "".join(parts) + "\n", planted, decoys


def har(g, target, plants):
    planted, decoys = [], []
    entries = []
    size = 0
    host = "app.%s.example.com" % g.word()
    pl = list(plants)
    pos = set(g.r.randint(0, 8) for _ in plants)
    i = 0
    while size < target or pl:
        headers = [{"name": "accept", "value": "application/json"}, {"name": "user-agent", "value": "Mozilla/5.0"},
                   {"name": "x-request-id", "value": g.uuid()}]
        resp_text, enc, mime = None, None, "application/json"
        if pl and (i in pos or size >= target):
            k = pl.pop()
            s = g.secret(k)
            planted.append((k, s))
            if k == "jwt_access" and g.r.random() < 0.5:
                resp_text = json.dumps({"access_token": s, "token_type": "Bearer", "expires_in": 86400})
            elif k == "client_secret64":
                resp_text = json.dumps({"client_id": g.client_id(), "client_secret": s, "name": g.word()})
            else:
                headers.append({"name": "authorization", "value": "Bearer " + s})
        if resp_text is None:
            if g.r.random() < 0.35:
                resp_text, enc, mime = png_b64(g, g.r.randint(2000, 60000)), "base64", "image/png"
                decoys.append(("b64_image", resp_text[:40]))
            else:
                resp_text = json.dumps([{"id": g.uuid(), "name": g.sentence(2), "sha": g.hexs(40)} for _ in range(g.r.randint(1, 30))])
        content = {"size": len(resp_text), "mimeType": mime, "text": resp_text}
        if enc:
            content["encoding"] = enc
        e = {"startedDateTime": g.iso(), "time": g.r.random() * 500,
             "request": {"method": "GET", "url": "https://%s/api/%s/%s" % (host, g.word(), g.uuid()), "httpVersion": "HTTP/2",
                         "headers": headers, "queryString": [], "cookies": [{"name": "_ga", "value": "GA1.2.%d.%d" % (g.r.randint(10**8, 10**9), g.ts())}],
                         "headersSize": -1, "bodySize": 0},
             "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2",
                          "headers": [{"name": "etag", "value": '"%s"' % g.hexs(32)}, {"name": "content-type", "value": mime}],
                          "cookies": [], "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
             "cache": {}, "timings": {"send": 0.1, "wait": g.r.random() * 300, "receive": 0.5}}
        entries.append(e)
        size += len(resp_text) + 900
        i += 1
    doc = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [], "entries": entries}}
    return json.dumps(doc, indent=2), planted, decoys


def package_lock(g, target, plants):
    pk = {}
    size = 0
    while size < target:
        n = g.ident(g.r.randint(1, 2)).replace("_", "-")
        v = "%d.%d.%d" % (g.r.randint(0, 9), g.r.randint(0, 30), g.r.randint(0, 30))
        pk["node_modules/" + n] = {"version": v, "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz" % (n, n, v),
                                   "integrity": "sha512-" + g.b64(64), "dev": g.r.random() < 0.5}
        size += 260
    return json.dumps({"name": g.word(), "lockfileVersion": 3, "requires": True, "packages": pk}, indent=2), [], []


def binary(g, target, plants):
    planted = []
    data = bytearray(g.r.randbytes(target))
    for k in plants:
        s = g.secret(k)
        planted.append((k, s))
        blob = b"\x00\x01authorization\x00Bearer " + s.encode() + b"\x00"
        off = g.r.randint(0, max(0, target - len(blob)))
        data[off:off + len(blob)] = blob
    return bytes(data), planted, []


# type: (builder, share of bytes, mean size, size spread, plant weight, extension(s))
TYPES = {
    "postman_env": (postman_env, 0.03, 2500, 0.5, 30, ".postman_environment.json"),
    "postman_collection": (postman_collection, 0.15, 45000, 0.9, 15, ".postman_collection.json"),
    "dotenv": (dotenv, 0.006, 700, 0.4, 20, ".env"),
    "yaml": (yaml_config, 0.02, 2000, 0.6, 5, ".yaml"),
    "source": (source, 0.20, 8000, 0.8, 10, None),
    "log": (logfile, 0.20, 1000000, 0.7, 8, ".log"),
    "minjs": (minjs, 0.12, 400000, 0.7, 4, ".min.js"),
    "har": (har, 0.15, 300000, 0.8, 8, ".har"),
    "package_lock": (package_lock, 0.05, 500000, 0.5, 0, "package-lock.json"),
    "binary": (binary, 0.074, 200000, 0.8, 2, None),
}
KINDS = ["jwt_auth0_mgmt", "jwt_access", "bearer_opaque", "client_secret64"]


def add_labelled(g, root, t, spec, size, counters, manifest, index):
    """Write one file of a formats.py type and add its labels to the manifest."""
    fn, prate = spec[0], spec[4]
    text, rel, labels = fn(g, size, g.r.random() < prate)
    c = counters[t] = counters.get(t, 0) + 1
    rel = os.path.join("proj%03d" % g.r.randrange(4), rel.replace("{n}", str(c)))
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode()
    with open(path, "wb") as f:
        f.write(data)
    manifest["files"] += 1
    manifest["bytes"] += len(data)
    index[rel] = t

    def line(off):
        return data.count(b"\n", 0, off) + 1
    seen = set()
    for role, kind, val, ctx in labels:
        v = val.encode()
        offs = [data.find(v)] if role == "plant" else []
        if role == "decoy" and (kind, val) not in seen:
            seen.add((kind, val))
            off = data.find(v)
            while off >= 0:
                offs.append(off)
                off = data.find(v, off + len(v))
        for off in offs:
            assert off >= 0, (rel, kind)
            e = {"file": rel, "line": line(off), "kind": kind, "ftype": t, "value": val}
            if ctx:
                e["context"] = ctx
            manifest["plants" if role == "plant" else "decoys"].append(e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plant-rate", type=float, default=0.005)
    # auth0: the file types above only (output as received); all: plus issue #10's credential
    # files, encrypted-on-purpose files, templates, code, docs and published token formats
    # (formats.py); new: those alone.
    ap.add_argument("--formats", choices=["auth0", "all", "new"], default="auth0")
    a = ap.parse_args()
    g = G(a.seed)
    total = int(a.size_mb * 1e6)
    types, extra = TYPES, {}
    if a.formats != "auth0":
        import formats
        extra = formats.TYPES
        types = {**(TYPES if a.formats == "all" else {}), **{t: v[:4] + (0, None) for t, v in extra.items()}}
        total /= sum(v[1] for v in types.values())  # --size-mb stays the corpus's size
    plan = []
    for t, (fn, share, mean, spread, w, ext) in types.items():
        budget = total * share
        while budget > 0:
            sz = max(200, int(g.r.lognormvariate(0, spread) * mean / (1 + spread * spread / 2)))
            plan.append([t, sz])
            budget -= sz
    g.r.shuffle(plan)
    nplant = max(8, round(a.plant_rate * len(plan)))
    by_type = {}
    for i, (t, _) in enumerate(plan):
        by_type.setdefault(t, []).append(i)
    weights = {t: v[4] for t, v in types.items() if v[4] > 0}
    chosen = {}
    while weights and len(chosen) < nplant:
        t = g.r.choices(list(weights), weights=list(weights.values()))[0]
        i = g.r.choice(by_type[t])
        if i in chosen:
            continue
        n = 1 if g.r.random() < 0.6 else 2
        chosen[i] = g.r.sample(KINDS, n)
    root = os.path.join(a.outdir, "corpus")
    os.makedirs(root, exist_ok=True)
    nproj = max(4, len(plan) // 250)
    manifest = {"files": 0, "bytes": 0, "plants": [], "decoys": []}
    counters = {}
    index = {}
    for i, (t, sz) in enumerate(plan):
        fn, share, mean, spread, w, ext = types[t]
        if t in extra:
            add_labelled(g, root, t, extra[t], sz, counters, manifest, index)
            continue
        plants = chosen.get(i, [])
        res = fn(g, sz, plants)
        content, planted, decoys = res[0], res[1], res[2]
        proj = "proj%03d" % g.r.randrange(nproj)
        c = counters[t] = counters.get(t, 0) + 1
        if t == "source":
            lang = res[3]
            sub = g.r.choice(["src", "lib", "app", "tests" if c % 7 == 0 else "pkg"])
            rel = os.path.join(proj, sub, "%s_%d.%s" % (g.ident(2), c, lang))
        elif t == "binary":
            rel = os.path.join(proj, g.r.choice(["assets", "Postman/IndexedDB", "data"]),
                               "%06d.%s" % (c, g.r.choice(["ldb", "png", "sqlite", "bin"])))
        elif t == "dotenv":
            rel = os.path.join(proj, "svc%d" % c, g.r.choice([".env", ".env.local", ".env.example", ".env.production"]))
        elif t == "package_lock":
            rel = os.path.join(proj, "web%d" % c, ext)
        else:
            sub = {"postman_env": "postman", "postman_collection": "postman", "yaml": "config", "log": "logs",
                   "minjs": "web/dist", "har": "har"}[t]
            rel = os.path.join(proj, sub, "%s_%d%s" % (g.ident(2), c, ext))
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode()
        with open(path, "wb") as f:
            f.write(data)
        manifest["files"] += 1
        manifest["bytes"] += len(data)
        index[rel] = t
        for kind, val in planted:
            off = data.find(val.encode())
            assert off >= 0, (rel, kind)
            manifest["plants"].append({"file": rel, "line": data.count(b"\n", 0, off) + 1, "kind": kind,
                                       "ftype": t, "value": val})
        for kind, val in set(decoys):
            off = data.find(val.encode())
            while off >= 0:
                manifest["decoys"].append({"file": rel, "line": data.count(b"\n", 0, off) + 1, "kind": kind})
                off = data.find(val.encode(), off + 1)
    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(a.outdir, "index.json"), "w") as f:  # file -> type, for per-format figures
        json.dump(index, f, indent=0, sort_keys=True)
    from collections import Counter
    print("files=%d bytes=%d (%.1f MB) plants=%d in %d files" % (
        manifest["files"], manifest["bytes"], manifest["bytes"] / 1e6, len(manifest["plants"]),
        len({p["file"] for p in manifest["plants"]})))
    print("plants by kind:", dict(Counter(p["kind"] for p in manifest["plants"])))
    print("plants by ftype:", dict(Counter(p["ftype"] for p in manifest["plants"])))


if __name__ == "__main__":
    main()
