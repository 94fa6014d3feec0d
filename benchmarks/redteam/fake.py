"""Fake credentials in real provider formats, with random bodies drawn at run time.

Formats are public facts (prefix, length, alphabet, checksum); nothing here is a live value and no
token is ever written to the repository: the corpus is generated into a scratch directory.
"""

# ruff: noqa: E501  # format strings of fixed tables and token layouts read best on one line

from __future__ import annotations

import base64
import json
import random
import string

from leakvault.patterns.validators import GENERATORS, make_jwt

ALNUM = string.ascii_letters + string.digits
LOWALNUM = string.ascii_lowercase + string.digits
UPALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
B32 = string.ascii_uppercase + "234567"


class Fake:
    """Every method returns a freshly drawn value in one provider's format."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + self.s(string.digits, n - 1)

    # -- cloud --------------------------------------------------------------------------------
    def aws_akid(self, prefix: str = "AKIA") -> str:
        return prefix + self.s(B32, 16)

    def aws_secret(self) -> str:
        return self.s(ALNUM + "/+", 40)

    def aws_session(self) -> str:
        return "IQoJb3JpZ2luX2VjE" + self.s(B64, 300) + "=="

    def gcp_api_key(self) -> str:
        return "AIza" + self.s(B64URL, 35)

    def azure_storage_key(self) -> str:
        return base64.b64encode(self.rng.randbytes(64)).decode()

    def azure_client_secret(self) -> str:
        return self.s(ALNUM, 3) + str(self.rng.randint(0, 9)) + "Q~" + self.s(ALNUM + "_~.-", 34)

    def azure_sas_sig(self) -> str:
        return (
            base64.b64encode(self.rng.randbytes(32))
            .decode()
            .replace("+", "%2B")
            .replace("/", "%2F")
            .replace("=", "%3D")
        )

    def do_token(self) -> str:
        return "dop_v1_" + self.s(HEX, 64)

    def heroku_key(self) -> str:
        return "HRKU-AA" + self.s(B64URL, 58)

    def cloudflare_token(self) -> str:
        return self.s(B64URL, 40)

    # -- code hosting / packages ----------------------------------------------------------------
    def github(self, prefix: str = "ghp_") -> str:
        return GENERATORS["crc32_base62"](prefix, self.rng)

    def github_fine(self) -> str:
        return "github_pat_11" + self.s(UPALNUM, 20) + "_" + self.s(ALNUM, 59)

    def gitlab(self) -> str:
        return "glpat-" + self.s(B64URL, 20)

    def npm(self) -> str:
        return GENERATORS["crc32_base62"]("npm_", self.rng)

    def pypi(self) -> str:
        return "pypi-AgEIcHlwaS5vcmc" + self.s(B64URL, 150)

    def dockerhub(self) -> str:
        return "dckr_pat_" + self.s(B64URL, 27)

    # -- chat -----------------------------------------------------------------------------------
    def slack_bot(self) -> str:
        return f"xoxb-{self.digits(12)}-{self.digits(13)}-{self.s(ALNUM, 24)}"

    def slack_user(self) -> str:
        return f"xoxp-{self.digits(12)}-{self.digits(12)}-{self.digits(13)}-{self.s(HEX, 32)}"

    def slack_webhook(self) -> str:
        return f"https://hooks.slack.com/services/T{self.s(UPALNUM, 8)}/B{self.s(UPALNUM, 10)}/{self.s(ALNUM, 24)}"

    def discord_webhook(self) -> str:
        return f"https://discord.com/api/webhooks/{self.digits(19)}/{self.s(B64URL, 68)}"

    def discord_bot(self) -> str:
        user = base64.b64encode(self.digits(18).encode()).decode().rstrip("=")
        return f"{user}.{self.s(B64URL, 6)}.{self.s(B64URL, 38)}"

    def telegram(self) -> str:
        return f"{self.digits(10)}:AA{self.s(B64URL, 33)}"

    # -- saas -----------------------------------------------------------------------------------
    def stripe(self, prefix: str = "sk_live_") -> str:
        return prefix + self.s(ALNUM, 24 if self.rng.random() < 0.5 else 99)

    def openai(self) -> str:
        if self.rng.random() < 0.5:
            return "sk-proj-" + self.s(B64URL, 156)
        return "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.s(B64URL, 93) + "AA"

    def huggingface(self) -> str:
        return "hf_" + self.s(string.ascii_letters, 34)

    def sendgrid(self) -> str:
        return f"SG.{self.s(B64URL, 22)}.{self.s(B64URL, 43)}"

    def twilio_sid(self) -> str:
        return "AC" + self.s(HEX, 32)

    def hex32(self) -> str:
        return self.s(HEX, 32)

    def mailgun(self) -> str:
        return "key-" + self.s(HEX, 32)

    def mailchimp(self) -> str:
        return self.s(HEX, 32) + f"-us{self.rng.randint(1, 21)}"

    def shopify(self) -> str:
        return "shpat_" + self.s(HEX, 32)

    def square(self) -> str:
        return "EAAA" + self.s(B64URL, 60)

    def newrelic(self) -> str:
        return "NRAK-" + self.s(UPALNUM, 27)

    def sentry_token(self) -> str:
        return "sntryu_" + self.s(HEX, 64)

    def supabase(self) -> str:
        return "sbp_" + self.s(HEX, 40)

    def databricks(self) -> str:
        return "dapi" + self.s(HEX, 32)

    def tfc(self) -> str:
        return f"{self.s(ALNUM, 14)}.atlasv1.{self.s(ALNUM, 67)}"

    def vault(self) -> str:
        return "hvs." + self.s(B64URL, 24)

    def doppler(self) -> str:
        return "dp.st.prd." + self.s(ALNUM, 43)

    def pulumi(self) -> str:
        return "pul-" + self.s(HEX, 40)

    def postman(self) -> str:
        return f"PMAK-{self.s(HEX, 24)}-{self.s(HEX, 34)}"

    def linear(self) -> str:
        return "lin_api_" + self.s(ALNUM, 40)

    def notion(self) -> str:
        return "ntn_" + self.digits(11) + self.s(ALNUM, 35)

    def groq(self) -> str:
        return "gsk_" + self.s(ALNUM, 52)

    def replicate(self) -> str:
        return "r8_" + self.s(ALNUM, 37)

    def mapbox_secret(self) -> str:
        payload = (
            base64.urlsafe_b64encode(json.dumps({"u": self.s(LOWALNUM, 8), "a": self.s(LOWALNUM, 25)}).encode())
            .decode()
            .rstrip("=")
        )
        return f"sk.{payload}.{self.s(B64URL, 22)}"

    def okta(self) -> str:
        return "00" + self.s(B64URL, 40)

    def atlassian(self) -> str:
        return "ATATT3xFfGF0" + self.s(B64URL, 170) + "=" + self.s(HEX.upper(), 8)

    def jwt(self) -> str:
        payload: dict[str, object] = {
            "sub": self.digits(8),
            "name": self.rng.choice(["alice", "bob", "svc-deploy"]),
            "iat": 1700000000 + self.rng.randint(0, 10**7),
            "exp": 1800000000 + self.rng.randint(0, 10**7),
            "iss": "https://auth.example-corp.io/",
        }
        return make_jwt(payload, self.rng)

    # -- passwords and keys --------------------------------------------------------------------
    def password(self, kind: str | None = None) -> str:
        """A password as people set them: random (generated) or human (word + digits + symbol)."""
        kind = kind or self.rng.choice(["random", "random", "human"])
        if kind == "random":
            return self.s(ALNUM + "!#%^*-_", self.rng.randint(14, 28))
        word = self.rng.choice(["Summer", "Dragon", "Falcon", "Monkey", "Rainbow", "Tiger", "Phoenix", "Galaxy"])
        return f"{word}{self.rng.choice(['@', '#', '!', '$'])}{self.rng.randint(1000, 9999)}{self.s(string.ascii_letters, 3)}"

    def private_key_body(self, size: int = 1190) -> list[str]:
        raw = base64.b64encode(b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00" + self.rng.randbytes(size)).decode()
        return [raw[i : i + 64] for i in range(0, len(raw), 64)]

    def pem(self, label: str = "RSA PRIVATE KEY") -> str:
        return "\n".join([f"-----BEGIN {label}-----", *self.private_key_body(), f"-----END {label}-----"])

    def openssh_key(self) -> str:
        raw = base64.b64encode(b"openssh-key-v1\x00\x00\x00\x00\x04none" + self.rng.randbytes(380)).decode()
        lines = [raw[i : i + 70] for i in range(0, len(raw), 70)]
        return "\n".join(["-----BEGIN OPENSSH PRIVATE KEY-----", *lines, "-----END OPENSSH PRIVATE KEY-----"])
