// STS GetCallerIdentity in a loop with the AWS SDK for JavaScript v3 and its
// default credential chain (here: container credentials, from the two
// variables `tobira exec --server` sets). One JSON line per call: the time,
// whether it worked, the access key the request was signed with (read from
// its Authorization header), the ARN or the error. Stops after argv[2]
// seconds or at a `stop` line on stdin.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const seconds = Number(process.argv[2] ?? "10");
let stop = false;
process.stdin.on("data", (d) => {
  if (d.toString().includes("stop")) stop = true;
});
process.stdin.on("error", () => {});

const sts = new STSClient({ region: "us-east-1", endpoint: process.env.AWS_ENDPOINT_URL });
let key = null;
sts.middlewareStack.add(
  (next) => async (args) => {
    const auth = args.request?.headers?.authorization ?? "";
    key = /Credential=([A-Z0-9]+)\//.exec(auth)?.[1] ?? null;
    return next(args);
  },
  { step: "deserialize", name: "recordSigningKey" },
);

const end = Date.now() + seconds * 1000;
while (Date.now() < end && !stop) {
  const t = Date.now() / 1000;
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    console.log(JSON.stringify({ t, ok: true, key, arn: out.Arn }));
  } catch (e) {
    console.log(JSON.stringify({ t, ok: false, error: `${e.name}: ${e.message}` }));
  }
  await new Promise((r) => setTimeout(r, 250));
}
process.exit(0);
