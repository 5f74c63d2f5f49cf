/** Backup and maintenance windows, compared as minutes of the week. */

/** Minutes of the week covered by a daily (`hh:mm-hh:mm`) or weekly (`ddd:hh:mm-ddd:hh:mm`) window. */
function windowMinutes(window: string): Set<number> {
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const minutes = new Set<number>();
  const [from, to] = window.split("-") as [string, string];
  const point = (text: string, day: number) => {
    const parts = text.split(":");
    const [d, h, m] = parts.length === 3 ? [days.indexOf(parts[0]!), Number(parts[1]), Number(parts[2])] : [day, Number(parts[0]), Number(parts[1])];
    return d * 1440 + h * 60 + m;
  };
  const spans = from.split(":").length === 3 ? [[point(from, 0), point(to, 0)]] : days.map((_, d) => [point(from, d), point(to, d)]);
  for (const [start, rawEnd] of spans as [number, number][]) {
    const end = rawEnd <= start ? rawEnd + (from.split(":").length === 3 ? 7 * 1440 : 1440) : rawEnd;
    for (let t = start; t < end; t++) minutes.add(t % (7 * 1440));
  }
  return minutes;
}

/** Whether a daily window and a weekly one share a minute of the week. */
export function windowsOverlap(daily: string, weekly: string): boolean {
  const a = windowMinutes(daily);
  for (const t of windowMinutes(weekly)) if (a.has(t)) return true;
  return false;
}
