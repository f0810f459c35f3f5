// Bulk import (issue 11): paste or pick a CSV file, check it (the API's dry run: every row's verdict,
// nothing written), import it, then follow the import's progress and per-row results
// (#/{business}/bulk/{import_id}, polling GET …/imports/{import_id} while it runs).

import * as api from "./console-api.js";
import { announce, field, focusOn, h, noteBox, problemBox, replace } from "./console-dom.js";

const RESULT_PLAIN = {
  valid: "Will be invited", duplicate: "Duplicate", refused: "Refused", pending: "In progress",
  created: "Invited", failed: "Failed",
};
const POLL_MS = 1000;
// The colon is part of the route: sent as is (encodeURIComponent would send %3A, another path).
const bulkPath = (businessId) => `${api.biz(businessId)}/invitations:bulk`;

function resultBadge(status) {
  return h("span", { class: `badge bulk-${status}` }, RESULT_PLAIN[status] || status);
}

export async function bulkView(app) {
  if (app.param) return importView(app, app.param);
  const textarea = h("textarea", { rows: 10, spellcheck: "false", class: "mono bulk-csv",
    placeholder: "email,name,account,role,employee_id\nana@example.com,Ana Silva,acme-tiktok,Editor,E-1042" });
  const csvField = field("CSV text", textarea, { hint: "Or paste the file's text here (picking a file fills it in)." });
  const fileInput = h("input", { type: "file", accept: ".csv,text/csv" });
  const fileField = field("CSV file", fileInput, { hint: "At most 1,000 rows. UTF-8." });
  const result = h("div", { id: "bulk-result" });
  const check = h("button", { type: "submit", class: "primary" }, "Check the file");

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    textarea.value = await file.text();
    replace(result);
    announce(`${file.name} loaded: check it before importing.`);
  });

  const form = h("form", { class: "bulk-form", novalidate: true }, fileField.wrap, csvField.wrap,
    h("div", { class: "actions" }, check));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value;
    check.disabled = true;
    try {
      const dry = await api.post(bulkPath(app.businessId), { csv: text, dry_run: true });
      showDryRun(app, result, dry, text);
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(result, problemBox(error.problem));
      focusOn(result.firstChild);
    } finally {
      check.disabled = false;
    }
  });

  return h("section", { "aria-labelledby": "bulk-title" },
    h("h1", { id: "bulk-title" }, "Bulk import"),
    h("p", { class: "lede" },
      "Invite up to 1,000 people from a CSV file with the columns email, name, account (the account id), role ",
      "(Admin, Editor, Moderator or Analyst) and optionally employee_id. Rows with the same e-mail make one invitation ",
      "with a role on each account. Check the file first: nothing is written until you import it."),
    form, result);
}

function counts(c) {
  return `${c.rows} rows: ${c.valid} valid (${c.invitations} invitations), ${c.duplicate} duplicate, ${c.refused} refused.`;
}

function showDryRun(app, slot, dry, text) {
  const c = dry.counts;
  const heading = h("h2", { id: "bulk-check-title", tabindex: "-1" }, "Check: nothing was written");
  const importButton = h("button", { type: "button", class: "primary" },
    `Import ${c.invitations} invitation${c.invitations === 1 ? "" : "s"}`);
  importButton.disabled = c.invitations === 0;
  const message = h("div", { id: "bulk-import-message" });
  importButton.addEventListener("click", async () => {
    importButton.disabled = true;
    // Our own import id: pressing twice, or retrying after a lost answer, imports once.
    const importId = `console-${crypto.randomUUID()}`;
    try {
      await api.post(bulkPath(app.businessId), { csv: text, import_id: importId });
      app.invalidate();
      app.go("bulk", importId);
    } catch (error) {
      importButton.disabled = false;
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(message, problemBox(error.problem));
    }
  });
  replace(slot, h("section", { class: "bulk-check", "aria-labelledby": heading.id },
    heading,
    h("p", { class: "bulk-summary" }, counts(c)),
    c.refused || c.duplicate
      ? h("p", { class: "hint" }, "Refused and duplicate rows are left out; fix them and import them in another file.")
      : null,
    h("div", { class: "actions" }, importButton), message,
    rowsTable(dry.rows, `Verdict of each row (${dry.rows.length})`, { dryRun: true })));
  focusOn(heading);
  announce(`Checked: ${counts(c)}`);
}

function rowsTable(rows, caption, { dryRun = false } = {}) {
  return h("div", { class: "table-wrap" }, h("table", { class: "grid bulk-rows" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {},
      ...["Row", "E-mail", "Name", "Account", "Role", dryRun ? "Verdict" : "Result", "Why"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", { class: `bulk-row-${r.status}` },
      h("td", {}, String(r.row)), h("td", {}, r.email || "—"), h("td", {}, r.name || "—"),
      h("td", {}, r.account || "—"), h("td", {}, r.role || "—"), h("td", {}, resultBadge(r.status)),
      h("td", { class: "details" }, r.detail || (r.reason ? r.reason : "")))))));
}

async function importView(app, importId) {
  const slot = h("div", { id: "bulk-import" });
  const section = h("section", { "aria-labelledby": "bulk-title" },
    h("h1", { id: "bulk-title" }, "Bulk import"),
    h("p", {}, h("a", { href: app.href("bulk") }, "Import another file")),
    slot);
  let announced = false;
  const load = async () => {
    let report;
    try {
      report = await api.get(api.biz(app.businessId, "imports", importId));
    } catch (error) {
      if (!(error instanceof api.ApiProblem)) throw error;
      replace(slot, problemBox(error.problem));
      return;
    }
    const c = report.counts;
    const running = report.status === "RUNNING";
    const done = c.rows - c.pending;
    const progress = h("progress", { max: String(c.rows), value: String(done), "aria-labelledby": "bulk-progress-label" });
    replace(slot,
      h("h2", { id: "bulk-import-title" }, `Import ${report.import_id}`),
      h("p", { id: "bulk-progress-label", class: "bulk-status" },
        running ? `In progress: ${done} of ${c.rows} rows done.`
          : report.status === "FAILED" ? `Failed: the import stopped with ${done} of ${c.rows} rows done.`
            : `Completed: ${c.rows} rows.`),
      progress,
      h("p", { class: "bulk-summary" },
        `${c.created} rows invited (${report.invitations_created} invitations), ${c.duplicate} duplicate, `,
        `${c.refused} refused, ${c.failed} failed${c.pending ? `, ${c.pending} in progress` : ""}.`),
      !running && report.invitations_created
        ? noteBox(`Each invited person gets an e-mail with their link; see them under Invitations.`)
        : null,
      rowsTable(report.rows, `Result of each row (${report.rows.length})`));
    if (running) {
      window.setTimeout(() => { if (slot.isConnected) load(); }, POLL_MS);
    } else if (!announced) {
      announced = true;
      announce(`Import ${report.status === "FAILED" ? "failed" : "completed"}: ${c.created} rows invited, ${c.duplicate} duplicate, ${c.refused} refused, ${c.failed} failed.`);
    }
  };
  await load();
  return section;
}
