// Bench baseline: the smallest possible WebSocket relay (a third process that forwards frames
// byte for byte). Worker B connects on /backend and echoes; the caller connects on /. The engine's
// invoke path has the same topology (A → engine → B → engine → A), so this is its floor.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
let backend;
let client;
server.on('connection', (ws, req) => {
  if (req.url === '/backend') {
    backend = ws;
    ws.on('message', (data, isBinary) => client?.send(data, { binary: isBinary }));
  } else {
    client = ws;
    ws.on('message', (data, isBinary) => backend?.send(data, { binary: isBinary }));
  }
});
process.on('SIGTERM', () => process.exit(0));
