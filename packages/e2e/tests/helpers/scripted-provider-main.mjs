// The scripted provider as its own process (for crash tests); turns arrive through provider::scripted::script.
import { runWorkerMain } from '@iii-harness/runtime';
import { createScriptedProvider } from '@iii-harness/testing';

await runWorkerMain(createScriptedProvider().spec);
