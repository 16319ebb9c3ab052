// bulkchange portal: progressive enhancement only. Every page works without this file; with it, progress
// and health update live (Server-Sent Events), files can be dropped, and risky submits ask first.
(() => {
  const segments = ['succeeded', 'failed', 'cancelled', 'active'];
  const terminal = ['completed', 'completed_with_errors', 'failed', 'cancelled'];
  const WIDTH = 1000;

  const number = (value) => value.toLocaleString('en-US');
  const label = (name) => {
    const words = name.replace(/_/g, ' ').toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  };
  const finishedRows = (counts) => counts.succeeded + counts.failed + counts.cancelled;
  const segmentCount = (counts, key) => (key === 'active' ? counts.inProgress + counts.waiting : counts[key]);

  function duration(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  /** Redraws a progress bar drawn by components/progress-bar.ts. */
  function drawProgress(bar, counts) {
    let x = 0;
    for (const key of segments) {
      const rect = bar.querySelector(`[data-segment="${key}"]`);
      const width = counts.total === 0 ? 0 : (segmentCount(counts, key) / counts.total) * WIDTH;
      rect.setAttribute('x', x.toFixed(1));
      rect.setAttribute('width', width.toFixed(1));
      x += width;
    }
    const failed = counts.failed > 0 ? ` · ${number(counts.failed)} failed` : '';
    const text = `${number(finishedRows(counts))} / ${number(counts.total)} done${failed}`;
    bar.querySelector('[data-progress-label]').textContent = text;
    bar.setAttribute('aria-valuenow', String(finishedRows(counts)));
    bar.setAttribute('aria-valuemax', String(counts.total));
    bar.setAttribute('aria-valuetext', text);
  }

  function drawStatus(badge, status) {
    badge.className = `badge badge-${status}`;
    badge.textContent = label(status);
  }

  /** After a change ends, the parts of the page that depend on it (actions, rows) are fetched again. */
  async function refreshLiveRegions() {
    const response = await fetch(window.location.href, { headers: { accept: 'text/html' } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const region of document.querySelectorAll('[data-live-region][id]')) {
      const replacement = fresh.getElementById(region.id);
      if (replacement) region.replaceWith(document.importNode(replacement, true));
    }
  }

  /** One bulk change: counters, bar, throughput and time left (bulk-change-detail.ts). */
  function followBulkChange(section) {
    const source = new EventSource(section.dataset.progressSource);
    const startedAt = section.dataset.startedAt ? Date.parse(section.dataset.startedAt) : null;
    let baseline = null;
    const update = (data) => {
      drawProgress(section.querySelector('[data-progress]'), data.counts);
      for (const cell of document.querySelectorAll('[data-count]')) {
        cell.textContent = number(data.counts[cell.dataset.count]);
      }
      const badge = document.querySelector('[data-bulk-status] [data-status-badge]');
      if (badge) drawStatus(badge, data.status);
      const finished = finishedRows(data.counts);
      const now = Date.now();
      if (startedAt === null && baseline === null && data.status === 'processing')
        baseline = { at: now, finished };
      const base = startedAt !== null ? { at: startedAt, finished: 0 } : baseline;
      const seconds = base ? (now - base.at) / 1000 : 0;
      const perSecond = seconds >= 1 ? (finished - base.finished) / seconds : 0;
      const remaining = data.counts.total - finished;
      section.querySelector('[data-throughput]').textContent =
        perSecond > 0 ? `${perSecond.toFixed(1)} rows/s` : '—';
      section.querySelector('[data-eta]').textContent =
        terminal.includes(data.status) || remaining === 0
          ? 'done'
          : perSecond > 0
            ? `about ${duration((remaining / perSecond) * 1000)}`
            : '—';
    };
    source.addEventListener('progress', (event) => update(JSON.parse(event.data)));
    source.addEventListener('done', (event) => {
      source.close();
      update(JSON.parse(event.data));
      refreshLiveRegions();
    });
  }

  /** Every open change of a list page over one stream (bulk-changes-list.ts). */
  function followList(container) {
    const source = new EventSource(container.dataset.listSource);
    source.addEventListener('progress', (event) => {
      const data = JSON.parse(event.data);
      const row = container.querySelector(`[data-bulk-change="${data.id}"]`);
      if (!row) return;
      drawProgress(row.querySelector('[data-progress]'), data.counts);
      drawStatus(row.querySelector('[data-status-badge]'), data.status);
    });
    source.addEventListener('done', () => source.close());
  }

  /** Server-rendered fragments replacing elements by id (carrier-accounts.ts health panels). */
  function followFragments(container) {
    const source = new EventSource(container.dataset.fragmentsSource);
    source.addEventListener('fragments', (event) => {
      for (const [id, markup] of Object.entries(JSON.parse(event.data))) {
        const element = document.getElementById(id);
        if (element) element.outerHTML = markup;
      }
    });
  }

  function enableDropzone(zone) {
    const input = zone.querySelector('input[type="file"]');
    const name = zone.querySelector('[data-dropzone-file]');
    const show = () => {
      name.textContent = input.files.length > 0 ? `Chosen: ${input.files[0].name}` : '';
    };
    input.addEventListener('change', show);
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('is-dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('is-dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('is-dragging');
      if (event.dataTransfer.files.length === 0) return;
      input.files = event.dataTransfer.files;
      show();
    });
  }

  /** The submit waits for the exact phrase; the server checks it again. */
  function requirePhrase(input) {
    const button = input.form.querySelector('[data-confirm-submit]');
    const check = () => {
      button.disabled = input.value.trim() !== input.dataset.confirmPhrase;
    };
    input.addEventListener('input', check);
    check();
  }

  document.addEventListener('submit', (event) => {
    const message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  for (const form of document.querySelectorAll('form[data-autosubmit]')) {
    for (const select of form.querySelectorAll('select')) {
      select.addEventListener('change', () => form.requestSubmit());
    }
  }
  document.querySelectorAll('[data-dropzone]').forEach(enableDropzone);
  document.querySelectorAll('[data-confirm-phrase]').forEach(requirePhrase);
  document.querySelectorAll('[data-progress-source]').forEach(followBulkChange);
  document.querySelectorAll('[data-list-source]').forEach(followList);
  document.querySelectorAll('[data-fragments-source]').forEach(followFragments);
})();
