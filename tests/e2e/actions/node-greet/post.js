// Post: sees the state saved by pre and main as STATE_*, and the inputs again.
console.log(`node-greet post: who=${process.env.INPUT_WHO} started=${process.env.STATE_started} ` +
            `legacy=${process.env.STATE_legacy} pre=${process.env.STATE_pre_marker}`);
