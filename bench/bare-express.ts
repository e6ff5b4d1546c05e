/** The ingest baseline: an Express app that parses the same JSON body and answers 202, nothing else. */
import { randomUUID } from 'node:crypto';
import express from 'express';

const app = express();
app.use(express.json({ limit: 4 * 1024 * 1024 }));
app.post('/v1/jobs', (request, response) => {
  response
    .status(202)
    .json({ id: randomUUID(), object: 'job', status: 'queued', type: (request.body as { type?: string }).type });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('bare express listening'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
