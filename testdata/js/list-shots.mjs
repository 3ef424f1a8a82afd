// Lists the shots of a project with the official ftrack JavaScript client (@ftrack/api), the
// way a pipeline tool would against the server 'ftrack-operator dev' prints.
//
// Usage: node list-shots.mjs [project name, default gullwing]
// Environment: FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY (source .dev/ftrack.env).
// Prints one line per shot, "<sequence>/<shot> <status> <cut_in>", sorted; exits non-zero on
// an error.
import { Session } from "@ftrack/api";

const { FTRACK_SERVER: server, FTRACK_API_USER: user, FTRACK_API_KEY: key } = process.env;
if (!server || !user || !key) {
  console.error("FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY must be set (source .dev/ftrack.env)");
  process.exit(2);
}
const project = process.argv[2] ?? "gullwing";

const session = new Session(server, user, key);
await session.initializing;
const shots = await session.query(
  `select name, parent.name, status.name, custom_attributes from Shot where project.name is "${project}"`,
);
const lines = shots.data.map((shot) => {
  const cutIn = (shot.custom_attributes ?? []).find((a) => a.key === "cut_in");
  return `${shot.parent.name}/${shot.name} ${shot.status.name} ${cutIn ? cutIn.value : "-"}`;
});
for (const line of lines.sort()) {
  console.log(line);
}
