"""Reads tobira's config scenarios with botocore and prints what botocore makes
of them, one JSON object per line, for the differential test
(crates/tobira-config/tests/botocore_differential.rs).

For each scenario directory: the merged profile map, sso-sessions and services
blocks botocore builds from the files, and the credential provider botocore
picks for the selected profile (or the error it raises). Nothing touches the
network: SSO, assume-role and web-identity credentials are lazy in botocore,
IMDS is disabled, and container credentials are not configured.
"""
import json
import os
import sys

import botocore.session
from botocore.exceptions import ConfigParseError


def read_kv(path):
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                k, _, v = line.partition("=")
                out[k] = v
    return out


def scenario(d):
    d = os.path.abspath(d)
    env = {"HOME": d, "AWS_CONFIG_FILE": os.path.join(d, "config"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(d, "credentials")}
    for k, v in read_kv(os.path.join(d, "env")).items():
        env[k] = v.replace("$SCENARIO", d)
    flags = read_kv(os.path.join(d, "flags"))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({k: v for k, v in env.items()})
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    # AWS CLI v2 order (botocore 1.x reads AWS_DEFAULT_PROFILE first): decide
    # the name here, then hand it to botocore the way the scenario names it.
    explicit = "profile" in flags
    name = flags.get("profile") or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    os.environ.pop("AWS_DEFAULT_PROFILE", None)
    if name and not explicit:
        os.environ["AWS_PROFILE"] = name
    result = {"name": os.path.basename(d)}
    try:
        session = botocore.session.Session(profile=name if explicit else None)
        try:
            full = session.full_config
        except ConfigParseError:
            result["parse_error"] = True
            return result
        result["profiles"] = full.get("profiles", {})
        result["sso_sessions"] = full.get("sso_sessions", {})
        result["services"] = full.get("services", {})
        try:
            creds = session.get_credentials()
            # Building a client (offline) applies the endpoint configuration,
            # which is where botocore rejects a bad `services` reference; the
            # AWS CLI builds one for every command.
            session.create_client("sts", region_name="us-east-1")
            result["method"] = creds.method if creds is not None else "none"
        except Exception as e:  # the message is what we compare
            result["error"] = str(e)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return result


def main():
    for d in sys.argv[1:]:
        print(json.dumps(scenario(d), sort_keys=True))


if __name__ == "__main__":
    main()
