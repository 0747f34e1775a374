// The ceiling for the benchmark: node:http reading the body and answering a fixed JSON, with no
// validation, no model and no framework. Nothing a real service does can be faster than this.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';

const port = Number(process.argv[2]);
const answer = JSON.stringify({
  request_id: 'req-0001',
  prediction: 'setosa',
  probabilities: { setosa: 0.98, versicolor: 0.02, virginica: 0 },
  api_version: '1.0.0',
});

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
}).listen(port, '127.0.0.1');
