// Runs one case's fake vendor server in its own process. Scenarios are chosen by the request's
// model name (see SCENARIOS in lib/scenarios.mjs), so one server serves every benchmark mode.
import { scenarioForModel } from './scenarios.mjs';

const caseModule = (await import(process.argv[2])).default;
const server = await caseModule.startFake();
server.nextScenario = () => {
  const last = server.requests.at(-1);
  server.requests.length = 0; // the log would grow without bound
  return scenarioForModel(last?.body?.model);
};
process.stdout.write(`READY ${server.url}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
