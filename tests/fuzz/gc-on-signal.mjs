// Preloaded into the fuzzed API process (NODE_OPTIONS=--expose-gc --import): on SIGUSR2 it
// collects garbage and prints the memory in use, so the fuzz compares live memory, not garbage
// that V8 had not collected yet. V8 hands freed pages back to the OS in the background, so RSS
// is read after two collections half a second apart, and half a second later.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  setTimeout(() => {
    globalThis.gc?.();
    setTimeout(() => {
      const memory = process.memoryUsage();
      console.log(JSON.stringify({ memoryAfterGc: { rss: memory.rss, heapUsed: memory.heapUsed } }));
    }, 500);
  }, 500);
});
