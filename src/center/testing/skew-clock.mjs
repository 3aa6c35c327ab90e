// Preloaded into a test child process (NODE_OPTIONS=--import=THIS) to make its wall clock run
// TEST_CLOCK_SKEW_MS ahead or behind, as a host with a badly set clock would.
const skew = Number(process.env.TEST_CLOCK_SKEW_MS ?? 0);
const realNow = Date.now;
Date.now = () => realNow() + skew;
