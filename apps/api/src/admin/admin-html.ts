/** Text made safe inside HTML text and quoted attributes: every character that could open markup is a reference. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * A page of the admin area that llmq draws itself: no scripts (the admin CSP allows none inline),
 * the board's dark colours, and the way back to the queues, the batches and out.
 */
export function adminPage(options: { title: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>llmq admin: ${escapeHtml(options.title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #151a21; color: #e6e9ee; margin: 0; }
  nav { display: flex; gap: 1.5rem; padding: 0.75rem 1.5rem; background: #1f2630; }
  main { padding: 1rem 1.5rem; }
  a { color: #93c5fd; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #2c3542; vertical-align: top; }
  th { color: #94a3b8; font-weight: 600; }
  code, .id { font-family: ui-monospace, monospace; font-size: 0.85rem; }
  .muted { color: #94a3b8; }
  .pager { margin-top: 1rem; }
</style>
</head>
<body>
<nav><a href="/admin/queues">Queues</a><a href="/admin/batches">Batches</a><a href="/admin/logout">Log out</a></nav>
<main>
${options.body}
</main>
</body>
</html>
`;
}
