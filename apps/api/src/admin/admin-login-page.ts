import { escapeHtml } from './admin-html.js';

/**
 * The dashboard's login form: a plain HTML form posting the token, so it works in any browser
 * without scripts (the admin CSP allows none inline anyway).
 */
export function adminLoginPage(options: { problem?: string } = {}): string {
  const problem = options.problem ? `<p role="alert" class="problem">${escapeHtml(options.problem)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>llmq admin: log in</title>
<style>
  body { font-family: system-ui, sans-serif; background: #151a21; color: #e6e9ee; display: grid; place-items: center; min-height: 100vh; margin: 0; }
  form { background: #1f2630; padding: 2rem; border-radius: 8px; display: grid; gap: 0.75rem; min-width: 20rem; }
  input, button { font: inherit; padding: 0.5rem; border-radius: 4px; border: 1px solid #3a4554; }
  button { background: #3b82f6; color: white; border: none; cursor: pointer; }
  .problem { color: #fca5a5; margin: 0; }
</style>
</head>
<body>
<form method="post" action="/admin/login">
  <h1>llmq queues</h1>
  ${problem}
  <label for="token">Admin token (LLMQ_ADMIN_TOKEN)</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>
</body>
</html>
`;
}
