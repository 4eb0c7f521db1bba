/* Dashboard: keep the job states current without a reload (polls the API). */
(function () {
  "use strict";
  const list = document.getElementById("dashboard-jobs");
  if (!list) return;
  async function refresh() {
    try {
      const response = await fetch("/api/jobs/", { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const jobs = await response.json();
      jobs.forEach((job) => {
        const row = list.querySelector(`[data-job="${job.id}"]`);
        if (!row) return;
        const badge = row.querySelector(".state");
        badge.textContent = job.state;
        badge.className = `state state-${job.state}`;
        row.querySelector(".job-progress").textContent = `${job.step}/${job.total_steps}`;
      });
    } catch (error) { /* offline for a moment: try again next tick */ }
  }
  setInterval(refresh, 3000);
})();
