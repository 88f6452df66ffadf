// One STS GetCallerIdentity with the AWS SDK for JavaScript v3, credentials
// from a `login_session` profile (`aws login`, `tobira login --console`):
//   node login-sts.mjs chain   the client's default chain (credential-provider-node
//                              -> fromIni -> the login provider), profile from AWS_PROFILE
//   node login-sts.mjs login   @aws-sdk/credential-provider-login's fromLoginCredentials
//                              for the profile AWS_PROFILE names
// STS and AWS Sign-In are reached at AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS /
// AWS_ENDPOINT_URL_SIGNIN), as the SDK itself reads them. Prints one JSON line:
// the ARN, the access key the request was signed with (from its Authorization
// header) and when the credentials expire; or the error. The SDK's warnings and
// errors go to stderr (crates/tobira-cli/tests/console.rs).
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromLoginCredentials } from "@aws-sdk/credential-provider-login";

const mode = process.argv[2] ?? "chain";
const logger = {
  trace() {},
  debug() {},
  info() {},
  warn: (...a) => console.error("warn:", ...a),
  error: (...a) => console.error("error:", ...a),
};
const config = { logger };
if (mode === "login") {
  config.credentials = fromLoginCredentials({ profile: process.env.AWS_PROFILE, logger });
} else if (mode !== "chain") {
  console.error(`unknown mode ${mode}: chain or login`);
  process.exit(2);
}
const sts = new STSClient(config);
let key = null;
sts.middlewareStack.add(
  (next) => async (args) => {
    const auth = args.request?.headers?.authorization ?? "";
    key = /Credential=([A-Z0-9]+)\//.exec(auth)?.[1] ?? null;
    return next(args);
  },
  { step: "deserialize", name: "recordSigningKey" },
);

try {
  const creds = await sts.config.credentials();
  const out = await sts.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ ok: true, arn: out.Arn, key, expiration: creds.expiration?.toISOString() ?? null }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` }));
}
