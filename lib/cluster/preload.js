'use strict'
// Loaded with `node --require` in every worker a prodkit primary forks, before the app:
// starts the worker side of the cluster (server tracking, drain on request, ready).
require('./worker').startRuntime()
