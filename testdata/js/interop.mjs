// Event interop between the official ftrack JavaScript client and the Go
// event hub client (driven by TestJavaScriptInterop in pkg/ftrack/event).
//
// 1. Subscribes to interop.from-go and answers with {answer: x * 2}; prints
//    "READY" once subscribed.
// 2. Publishes interop.from-js {x: 21} until the Go subscriber's reply
//    {answer: 42} arrives.
// 3. Waits until it has answered a Go question, then exits 0.
//
// Environment: FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY.
import { EventHub, Event } from "@ftrack/api";

const server = process.env.FTRACK_SERVER;
const apiUser = process.env.FTRACK_API_USER;
const apiKey = process.env.FTRACK_API_KEY;
if (!server || !apiUser || !apiKey) {
  console.error("FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY must be set");
  process.exit(2);
}

const deadline = setTimeout(() => {
  console.error("FAIL: interop did not finish within 60 seconds");
  process.exit(3);
}, 60_000);
deadline.unref();

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const hub = new EventHub(server, apiUser, apiKey, { applicationId: "interop.js" });
hub.connect();

let answered = 0;
hub.subscribe("topic=interop.from-go", (event) => {
  answered += 1;
  return { answer: event.data.x * 2, from: "js" };
});

for (let i = 0; !hub.isConnected(); i++) {
  if (i > 500) fail("the JavaScript hub did not connect");
  await sleep(20);
}
console.log("READY");

let reply = null;
for (let i = 0; reply === null; i++) {
  if (i > 100) fail("no reply from the Go subscriber to interop.from-js");
  await hub.publish(new Event("interop.from-js", { x: 21 }), {
    onReply: (event) => {
      reply = event;
    },
  });
  await sleep(200);
}
if (reply.data.answer !== 42 || reply.data.from !== "go") {
  fail(`unexpected reply from Go: ${JSON.stringify(reply.data)}`);
}
console.log("GOT-GO-REPLY");

for (let i = 0; answered === 0; i++) {
  if (i > 1500) fail("the Go client never asked interop.from-go");
  await sleep(20);
}
// Give the reply a moment to be flushed before the process exits.
await sleep(200);
console.log("DONE");
hub.disconnect?.();
process.exit(0);
