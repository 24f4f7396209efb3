console.log(`node-cleanup main tag=${process.env.INPUT_TAG}`);
