// The demo's start page: the HTML that explains the scenarios and links to the dashboard.
/** The demo's start page: scenario buttons, your reviewer name, and the runs as they happen. */
export function startPageHtml(scenarios: Record<string, string>): string {
  const buttons = Object.entries(scenarios)
    .map(([name, label]) => `<button type="button" data-scenario="${name}" data-testid="run-${name}">${label}</button>`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hitl demo</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
  a.dashboard { font-weight: 600; }
  .actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: 1rem 0; }
  button { font: inherit; padding: .4rem .8rem; border-radius: .4rem; border: 1px solid #8888; cursor: pointer; }
  .run { border: 1px solid #8884; border-radius: .5rem; padding: .5rem 1rem; margin: 1rem 0; }
  .run h2 { font-size: 1rem; margin: .25rem 0; }
  ol { padding-left: 1.25rem; margin: .25rem 0; font-family: ui-monospace, monospace; font-size: .85rem; }
  label { display: inline-flex; gap: .5rem; align-items: center; }
  .hint { color: #59636e; font-size: .9rem; }
</style>
</head>
<body>
<header>
  <h1>hitl demo</h1>
  <a class="dashboard" href="hitl/" data-testid="dashboard-link">Open the reviewer dashboard →</a>
</header>
<p>A customer-support agent closes customer accounts. Reads run at once, a confident plan change runs at
once, but deleting an account and emailing the customer wait for you on the dashboard.</p>
<label>Decide as <input id="reviewer" value="demo-reviewer" size="16" data-testid="reviewer-name"></label>
<p class="hint" data-testid="reviewer-hint">The dashboard's header says who you decide as ("Signed in as …"). To decide as someone else, type another name here and reload the dashboard.</p>
<div class="actions">
      ${buttons}
</div>
<p id="message" role="status"></p>
<div id="runs" data-testid="runs"></div>
<script>
  const reviewer = document.getElementById('reviewer');
  const saved = document.cookie.split('; ').find((part) => part.startsWith('hitl_reviewer='));
  if (saved) reviewer.value = decodeURIComponent(saved.split('=')[1]);
  const remember = () => { document.cookie = 'hitl_reviewer=' + encodeURIComponent(reviewer.value || 'demo-reviewer') + '; path=/; SameSite=Strict'; };
  reviewer.addEventListener('change', remember);
  remember();
  for (const button of document.querySelectorAll('button[data-scenario]')) {
    button.addEventListener('click', async () => {
      const response = await fetch('demo/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scenario: button.dataset.scenario }) });
      const body = await response.json();
      document.getElementById('message').textContent = response.ok ? 'Started ' + body.runs.map((run) => run.id).join(', ') + '.' : body.error.message;
      refresh();
    });
  }
  async function refresh() {
    const response = await fetch('demo/runs');
    if (!response.ok) return;
    const { runs } = await response.json();
    const container = document.getElementById('runs');
    container.replaceChildren(...runs.map((run) => {
      const section = document.createElement('section');
      section.className = 'run';
      const title = document.createElement('h2');
      title.textContent = run.id + ' · ' + run.framework + ' agent · customer ' + run.customerId + ' · ' + run.status;
      const list = document.createElement('ol');
      for (const step of run.steps) {
        const item = document.createElement('li');
        item.textContent = step.text;
        list.append(item);
      }
      section.append(title, list);
      return section;
    }));
  }
  refresh();
  setInterval(refresh, 1000);
</script>
</body>
</html>
`;
}
