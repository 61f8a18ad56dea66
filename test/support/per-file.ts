import { newTestFile } from "./services.ts";

// vitest runs this before each test file (vitest.config.ts `setupFiles`), also when a worker process
// goes on to its next file with the modules of the earlier ones still loaded (`isolate: false`).
newTestFile();
