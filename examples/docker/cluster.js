'use strict'
// The service clustered from its own entry file (Dockerfile.cluster: CMD ["node",
// "cluster.js"]): the primary forks one worker per CPU, each runs server.js.
const path = require('node:path')
const prodkit = require('@oj/prodkit')

prodkit.cluster({ start: path.join(__dirname, 'server.js') })
