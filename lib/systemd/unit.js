'use strict'
// The systemd unit that `prodkit startup systemd` prints: the app under `prodkit run`,
// as a Type=notify service of a non-root user, restarted always, reloaded with SIGHUP,
// and confined (read-only system, private /tmp, no privilege gain).

// Unit files expand %-specifiers everywhere, and $ in command lines.
function escapeValue (value) {
  return value.replace(/%/g, '%%')
}

// One argument of ExecStart=, quoted when it has to be.
function execArg (value) {
  const escaped = escapeValue(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$')
  return /[\s"'\\;]/.test(value) || escaped !== value ? `"${escaped}"` : value
}

function pathValue (value) {
  const escaped = escapeValue(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')
  return /\s/.test(value) || escaped !== value ? `"${escaped}"` : value
}

// `options` are validated by the CLI: absolute paths, a user name, positive numbers.
// `prodkit`: the CLI the unit runs, the app's own copy (`prodkitOwn`) unless it has none.
function systemdUnit ({ name, user, cwd, entry, node, prodkit, prodkitOwn = true, workers, logDir, timeoutStopSec, watchdogSec }) {
  const exec = [node, prodkit, 'run', '--workers', String(workers), entry].map(execArg).join(' ')
  const lines = [
    `# Written by \`prodkit startup systemd\`. Save it as /etc/systemd/system/${name}.service, then:`,
    `#   sudo systemctl daemon-reload && sudo systemctl enable --now ${name}`,
    `# Create ${logDir} first, writable by ${user}: it is the only place the service may write.`,
    `# Console: sudo -u ${user} PRODKIT_RUNTIME_DIR=/run/${name} node_modules/.bin/prodkit status (in ${cwd}).`,
    prodkitOwn
      ? '# It runs the app\'s own prodkit (its node_modules): upgrading it there upgrades the service.'
      : '# The app had no prodkit of its own: it runs the copy that printed this unit. Install prodkit in the app and print it again.',
    '[Unit]',
    `Description=${escapeValue(name)} (Node.js, clustered by prodkit)`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    // READY=1 once every worker serves; RELOADING=1 ... READY=1 around a rolling reload;
    // STOPPING=1 at shutdown. Only the primary (the main process) notifies.
    'Type=notify',
    'NotifyAccess=main',
    `User=${user}`,
    `WorkingDirectory=${escapeValue(cwd)}`, // the rest of the line, spaces included
    'Environment=NODE_ENV=production',
    // The control socket of `prodkit status` and the other console commands: in /run/<name>
    // (a system service has no $XDG_RUNTIME_DIR, and its /tmp is private), owner-only.
    `Environment=PRODKIT_RUNTIME_DIR=/run/${escapeValue(name)}`,
    `RuntimeDirectory=${escapeValue(name)}`,
    'RuntimeDirectoryMode=0700',
    `ExecStart=${exec}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    // SIGTERM to the primary alone, which drains its workers; SIGKILL to whatever is left
    // after TimeoutStopSec.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${timeoutStopSec}`,
    'Restart=always',
    'RestartSec=1',
    ...(watchdogSec ? [`WatchdogSec=${watchdogSec}`] : []),
    `SyslogIdentifier=${escapeValue(name)}`,
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    `ReadWritePaths=${pathValue(logDir)}`,
    'PrivateTmp=true',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectControlGroups=true',
    'RestrictSUIDSGID=true',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ''
  ]
  return lines.join('\n')
}

module.exports = { systemdUnit, execArg }
