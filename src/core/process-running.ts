/** Whether `pid` is a running process on this host (not a zombie); one implementation, in core/os. */
export { isProcessAlive as isProcessRunning } from './os/process-alive.js';
