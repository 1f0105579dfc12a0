'use strict'
// Shared test helpers: temporary folders, reading log files, running child processes.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const ROOT = path.join(__dirname, '..')

function tempDir (t, name = 'prodkit') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Every line of a file parsed as JSON; fails (with the line) on one that is not, and on
// bytes that are not valid UTF-8.
function readJsonLines (file) {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file))
  return parseJsonLines(text)
}

function parseJsonLines (text) {
  if (text === '') return []
  if (!text.endsWith('\n')) throw new Error(`output does not end with a newline: ...${JSON.stringify(text.slice(-80))}`)
  return text.slice(0, -1).split('\n').map((line, i) => {
    try {
      return JSON.parse(line)
    } catch (err) {
      throw new Error(`line ${i + 1} is not valid JSON (${err.message}): ${line.slice(0, 200)}`)
    }
  })
}

// Runs `node -e <code>` (prodkit resolvable as '@oj/prodkit') and collects its output.
function runNode (code, { env = {}, args = [], timeoutMs = 60_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '-e', code], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      ...options
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child timed out; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

module.exports = { ROOT, tempDir, readJsonLines, parseJsonLines, runNode }
