// Conformance scenario: drives the official ftrack JavaScript client
// (@ftrack/api) against an ftracktest emulator. Exits non-zero with a clear
// message on the first failed check.
//
// Environment: FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY.
import { Session, Event, error as ftrackError, operation, SERVER_LOCATION_ID } from "@ftrack/api";

const server = process.env.FTRACK_SERVER;
const apiUser = process.env.FTRACK_API_USER;
const apiKey = process.env.FTRACK_API_KEY;
if (!server || !apiUser || !apiKey) {
  console.error("FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY must be set");
  process.exit(2);
}

const deadline = setTimeout(() => {
  console.error("FAIL: the scenario did not finish within 90 seconds");
  process.exit(3);
}, 90_000);
deadline.unref();

class CheckError extends Error {}

function check(condition, message, detail) {
  if (!condition) {
    throw new CheckError(detail === undefined ? message : `${message}: got ${JSON.stringify(detail)}`);
  }
}

async function rejects(promise, ErrorClass, contentPart, what) {
  try {
    await promise;
  } catch (err) {
    check(err instanceof ErrorClass, `${what}: want ${ErrorClass.name}`, `${err && err.name}: ${err && err.message}`);
    if (contentPart) {
      check(String(err.message).includes(contentPart), `${what}: error message should mention ${contentPart}`, err.message);
    }
    return err;
  }
  throw new CheckError(`${what}: the call succeeded, want ${ErrorClass.name}`);
}

// waitFor resolves when predicate() is truthy, polling every 20 ms.
async function waitFor(predicate, what, timeoutMs = 15_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const value = predicate();
    if (value) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new CheckError(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

let current = "";
async function step(name, fn) {
  current = name;
  await fn();
  console.log(`ok   ${name}`);
}

const run = Date.now().toString(36);
const ids = {};

async function main() {
  const session = new Session(server, apiUser, apiKey, { autoConnectEventHub: true });
  const other = new Session(server, apiUser, apiKey);

  await step("session start: server information and schemas", async () => {
    await session.initializing;
    check(session.serverInformation && session.serverInformation.version, "server information has a version", session.serverInformation);
    check(session.serverInformation.is_timezone_support_enabled === true, "timezone support is enabled");
    check(Array.isArray(session.schemas) && session.schemas.some((s) => s.id === "Location"), "schemas include Location");
    check(JSON.stringify(session.getPrimaryKeyAttributes("Metadata")) === '["parent_id","key"]', "Metadata primary key", session.getPrimaryKeyAttributes("Metadata"));
    await other.initializing;
  });

  await step("query: built-in location", async () => {
    const res = await session.query('select id, name from Location where name is "ftrack.server"');
    check(res.data.length === 1 && res.data[0].id === SERVER_LOCATION_ID, "ftrack.server location id", res.data);
    check(res.metadata.next.offset === null, "no next page", res.metadata);
  });

  await step("create: project hierarchy in one batch", async () => {
    const schema = await session.query("select id from ProjectSchema limit 1");
    check(schema.data.length === 1, "a project schema exists");
    ids.project = `conf-project-${run}`;
    ids.sequence = `conf-seq-${run}`;
    const ops = [
      operation.create("Project", { id: ids.project, name: `conformance_${run}`, full_name: "Conformance", project_schema_id: schema.data[0].id }),
      operation.create("Sequence", { id: ids.sequence, name: "sq010", parent: { __entity_type__: "Project", id: ids.project } }),
    ];
    for (let i = 1; i <= 5; i++) {
      ops.push(operation.create("Shot", { name: `sh0${i}0`, parent_id: ids.sequence }));
    }
    const responses = await session.call(ops);
    check(responses.length === 7, "seven results", responses.length);
    const shot = responses[2].data;
    check(shot.__entity_type__ === "Shot" && typeof shot.id === "string" && shot.id.length > 0, "created shot has a generated id", shot);
    check(shot.context_type === "task", "server sets context_type", shot);
    ids.shots = responses.slice(2).map((r) => r.data.id);
  });

  await step("query: relations, nested projections and order", async () => {
    const res = await session.query(`select name, parent.name, status.name, project.full_name from Shot where parent_id is "${ids.sequence}" order by name desc`);
    check(res.data.length === 5, "five shots", res.data.length);
    check(res.data[0].name === "sh050", "ordered by name desc", res.data.map((d) => d.name));
    check(res.data[0].parent.name === "sq010", "parent.name is projected", res.data[0].parent);
    check(res.data[0].project.full_name === "Conformance", "project.full_name is projected", res.data[0].project);
    check(typeof res.data[0].status.name === "string", "status.name is projected", res.data[0].status);
    const children = await session.query(`select children.name from Sequence where id is "${ids.sequence}"`);
    check(children.data[0].children.length === 5, "children collection", children.data[0].children);
  });

  await step("query: paging metadata", async () => {
    const first = await session.query(`select id from Shot where parent_id is "${ids.sequence}" limit 2`);
    check(first.data.length === 2 && first.metadata.next.offset === 2, "first page of two", first.metadata);
    const last = await session.query(`select id from Shot where parent_id is "${ids.sequence}" offset 4 limit 2`);
    check(last.data.length === 1 && last.metadata.next.offset === null, "last page", last.metadata);
    const none = await session.query(`select id from Shot where parent_id is "${ids.sequence}" limit 0`);
    check(none.data.length === 0, "limit 0", none.data);
  });

  await step("query: has, any, in with a sub-query, like, metadata and group by", async () => {
    await session.create("Metadata", { parent_id: ids.shots[3], parent_type: "Shot", key: "camera", value: "alexa" });
    const any = await session.query(`select id from Shot where metadata any (key is "camera" and value is "alexa")`);
    check(any.data.length === 1 && any.data[0].id === ids.shots[3], "metadata any", any.data);
    const has = await session.query(`select id from Shot where parent has (name is "sq010") and parent_id is "${ids.sequence}"`);
    check(has.data.length === 5, "has on a scalar relation", has.data.length);
    const sub = await session.query(`select id from Shot where parent_id in (select id from Sequence where project_id is "${ids.project}")`);
    check(sub.data.length === 5, "in with a sub-query", sub.data.length);
    const like = await session.query(`select name from Shot where name like "%40" and parent_id is "${ids.sequence}"`);
    check(like.data.length === 1 && like.data[0].name === "sh040", "like", like.data);
    const meta = await session.query(`select metadata from Shot where id is "${ids.shots[3]}"`);
    check(meta.data[0].metadata.length === 1 && meta.data[0].metadata[0].value === "alexa", "metadata collection", meta.data[0].metadata);
    const strict = new Session(server, apiUser, apiKey, { strictApi: true });
    await strict.initializing;
    const grouped = await strict.query(`select count(id), parent_id from Shot where parent_id is "${ids.sequence}" group by parent_id`);
    check(grouped.data.length === 1 && grouped.data[0].count_id === 5, "count with group by", grouped.data);
  });

  await step("update and delete", async () => {
    const updated = await session.update("Shot", ids.shots[0], { description: "hero shot" });
    check(updated.data.description === "hero shot", "update returns the new value", updated.data);
    const listKey = await session.update("Shot", [ids.shots[1]], { description: "list key" });
    check(listKey.data.description === "list key", "update accepts a key list", listKey.data);
    const deleted = await session.delete("Shot", [ids.shots[4]]);
    check(deleted.data === true, "delete answers true", deleted);
    const left = await session.query(`select id from Shot where parent_id is "${ids.sequence}"`);
    check(left.data.length === 4, "four shots left", left.data.length);
    const ensured = await session.ensure("Shot", { name: "sh010", parent_id: ids.sequence }, ["name", "parent_id"]);
    check(ensured.id === ids.shots[0], "ensure finds the existing shot", ensured);
  });

  await step("one transaction: required attributes checked at the end, collections stored and answered", async () => {
    // A Scope created without its name and named by the next operation of the batch.
    ids.scope = `conf-scope-${run}`;
    const created = await session.call([
      operation.create("Scope", { id: ids.scope }),
      operation.update("Scope", [ids.scope], { name: `conformance_${run}` }),
    ]);
    check(created[1].data.name === `conformance_${run}`, "the batch names the scope", created[1].data);
    // A collection write: stored, answered, read back.
    const task = await session.create("Task", { name: "scoped", parent_id: ids.shots[0] });
    const updated = await session.update("Task", [task.data.id], { scopes: [{ __entity_type__: "Scope", id: ids.scope }] });
    check(Array.isArray(updated.data.scopes) && updated.data.scopes.length === 1 && updated.data.scopes[0].id === ids.scope, "the update's answer carries the scopes it set", updated.data);
    const read = await session.query(`select scopes from Task where id is "${task.data.id}"`);
    check(read.data[0].scopes.length === 1 && read.data[0].scopes[0].id === ids.scope, "scopes read back", read.data[0]);
    // Metadata created and attached in one batch: the answer carries it.
    const both = await session.call([
      operation.create("Metadata", { parent_id: ids.shots[1], parent_type: "Shot", key: "lens", value: "35mm" }),
      operation.update("Shot", [ids.shots[1]], { metadata: [{ __entity_type__: "Metadata", parent_id: ids.shots[1], key: "lens" }] }),
    ]);
    check(Array.isArray(both[1].data.metadata) && both[1].data.metadata.some((m) => m.key === "lens" && m.value === "35mm"), "the update's answer carries the metadata", both[1].data);
    // A required attribute still missing when the batch ends refuses the whole batch.
    await rejects(session.call([
      operation.create("Scope", { id: `conf-scope-kept-${run}`, name: `kept_${run}` }),
      operation.create("Scope", { id: `conf-scope-bad-${run}` }),
    ]), ftrackError.ServerValidationError, "name", "a batch leaving a Scope without its name");
    const kept = await session.query(`select id from Scope where name is "kept_${run}"`);
    check(kept.data.length === 0, "the refused batch created nothing", kept.data);
  });

  await step("aliased references: the project schema's workflows", async () => {
    const wf = await session.create("WorkflowSchema", { name: `conformance_versions_${run}` });
    const schema = await session.query("select id, task_workflow_schema_id from ProjectSchema limit 1");
    const id = schema.data[0].id;
    await session.update("ProjectSchema", [id], { asset_version_workflow_schema_id: wf.data.id });
    const read = await session.query(`select _task_workflow.id, _version_workflow.name, task_workflow_schema_id from ProjectSchema where id is "${id}"`);
    const got = read.data[0];
    check(got._version_workflow && got._version_workflow.name === `conformance_versions_${run}`, "_version_workflow reads the workflow its key names", got);
    if (got.task_workflow_schema_id) {
      check(got._task_workflow && got._task_workflow.id === got.task_workflow_schema_id, "_task_workflow reads the workflow its key names", got);
    }
  });

  await step("datetime round trip", async () => {
    const start = new Date("2024-05-06T07:08:09.000Z");
    const created = await session.create("Task", { name: "comp", parent_id: ids.shots[0], start_date: start });
    ids.task = created.data.id;
    const asMoment = await session.query(`select start_date from Task where id is "${ids.task}"`);
    check(asMoment.data[0].start_date.toISOString() === start.toISOString(), "start_date decodes to the same instant", asMoment.data[0].start_date.toISOString());
    const asIso = await session.query(`select start_date from Task where id is "${ids.task}"`, { decodeDatesAsIso: true });
    check(asIso.data[0].start_date === "2024-05-06T07:08:09.000Z", "decodeDatesAsIso", asIso.data[0].start_date);
    const after = await session.query(`select id from Task where start_date after "2024-05-06T00:00:00.000Z" and id is "${ids.task}"`);
    check(after.data.length === 1, "datetime comparison in where", after.data);
  });

  await step("custom attribute: dense default, then upsert", async () => {
    const numberType = await session.query('select id from CustomAttributeType where name is "number"');
    check(numberType.data.length === 1, "a number custom attribute type exists", numberType.data);
    const shotType = await session.query('select id from ObjectType where name is "Shot"');
    const cfg = await session.create("CustomAttributeConfiguration", {
      key: `fstart_${run}`, label: "Frame start", entity_type: "task", object_type_id: shotType.data[0].id,
      type_id: numberType.data[0].id, config: "{}", core: false, default: 1001,
    });
    ids.config = cfg.data.id;
    const read = async () => {
      const res = await session.query(`select custom_attributes from Shot where id is "${ids.shots[0]}"`);
      return res.data[0].custom_attributes.find((v) => v.key === `fstart_${run}`);
    };
    const dense = await read();
    check(dense && dense.value === 1001 && dense.configuration_id === ids.config, "dense value with the default", dense);
    await session.update("ContextCustomAttributeValue", [ids.config, ids.shots[0]], { value: 1010 });
    const stored = await read();
    check(stored.value === 1010, "stored value", stored);
    await rejects(session.update("ContextCustomAttributeValue", [ids.config, ids.shots[0]], { value: "not a number" }),
      ftrackError.ServerValidationError, `fstart_${run}`, "type-checked custom attribute value");
  });

  await step("errors: bad credentials, unknown type, missing required attribute", async () => {
    const bad = new Session(server, apiUser, "wrong-key");
    await rejects(bad.initializing, ftrackError.ServerError, "API key", "bad credentials");
    await rejects(session.create("NoSuchType", { name: "x" }), ftrackError.ServerValidationError, "NoSuchType", "unknown entity type");
    await rejects(session.create("Project", { name: `missing_${run}`, full_name: "x" }), ftrackError.ServerValidationError, "project_schema", "missing required attribute");
    await rejects(session.query("select nope from Shot"), ftrackError.ServerValidationError, "nope", "unknown attribute in a query");
    const still = await session.query(`select id from Project where id is "${ids.project}"`);
    check(still.data.length === 1, "the project survives failed calls");
  });

  await step("event hub: subscribe, publish and receive a custom topic", async () => {
    const hub = session.eventHub;
    await waitFor(() => hub.isConnected(), "the event hub connection");
    const pings = [];
    hub.subscribe("topic=conformance.ping", (event) => { pings.push(event); });
    const updates = [];
    hub.subscribe("topic=ftrack.update", (event) => { updates.push(event); });
    ids.updates = updates;
    await hub.publish(new Event("conformance.ping", { n: 1 }));
    const ping = await waitFor(() => pings.find((p) => p.data.n === 1), "the custom event");
    check(ping.source.user.username === apiUser, "source.user.username", ping.source);
  });

  await step("event hub: ftrack.update from a second session", async () => {
    await other.update("Shot", ids.shots[2], { name: "sh031" }, { pushToken: "push-conformance" });
    const event = await waitFor(() => ids.updates.find((e) => e.data.entities.some((x) => x.entityId === ids.shots[2])), "the ftrack.update event");
    const entity = event.data.entities.find((x) => x.entityId === ids.shots[2]);
    check(entity.action === "update" && entity.entity_type === "Shot" && entity.entityType === "task", "entity entry", entity);
    check(entity.changes.name && entity.changes.name.new === "sh031" && entity.changes.name.old === "sh030", "name change", entity.changes);
    check(entity.parents.some((p) => p.entityId === ids.project), "parents reach the project", entity.parents);
    check(event.data.pushToken === "push-conformance", "pushToken echoed", event.data.pushToken);
    check(typeof event.data.clientToken === "string" && event.data.clientToken.startsWith("ftrack-javascript-api--"), "clientToken of the second session", event.data.clientToken);
    check(event.data.clientToken !== session.clientToken, "the first session can tell the change is not its own");
  });

  await step("event hub: reply", async () => {
    const hub = session.eventHub;
    hub.subscribe("topic=conformance.question", (event) => ({ answer: event.data.x * 2 }));
    let reply = null;
    await hub.publish(new Event("conformance.question", { x: 21 }), { onReply: (event) => { reply = event; } });
    const got = await waitFor(() => reply, "the reply");
    check(got.data.answer === 42, "reply data", got.data);
    // A reply whose data is not an object is routed too.
    hub.subscribe("topic=conformance.ping", () => "Replied");
    let plain = null;
    await hub.publish(new Event("conformance.ping", {}), { onReply: (event) => { plain = event; } });
    const pong = await waitFor(() => plain, "the reply whose data is a string");
    check(pong.data === "Replied", "string reply data", pong.data);
  });
}

main().then(
  () => {
    console.log("PASS: @ftrack/api conformance scenario");
    process.exit(0);
  },
  (err) => {
    const kind = err instanceof CheckError ? "check failed" : "unexpected error";
    console.error(`FAIL (${current}): ${kind}: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
