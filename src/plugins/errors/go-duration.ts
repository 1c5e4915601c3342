/**
 * @module plugins/errors/go-duration
 * Go's time.Duration.String(), so consolidation summaries read exactly as
 * CoreDNS prints them: "30s", "5m0s", "1h0m0s", "1.5s", "250ms", "0s".
 */

/** `ms` milliseconds (rounded to nanoseconds) as Go prints a Duration. */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${fraction(ns, 1e3)}µs`;
  if (ns < 1e9) return `${sign}${fraction(ns, 1e6)}ms`;
  const totalSeconds = Math.floor(ns / 1e9);
  const secondsText = fraction(ns - (totalSeconds - (totalSeconds % 60)) * 1e9, 1e9);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes === 0) return `${sign}${secondsText}s`;
  const hours = Math.floor(minutes / 60);
  if (hours === 0) return `${sign}${minutes}m${secondsText}s`;
  return `${sign}${hours}h${minutes % 60}m${secondsText}s`;
}

/** `value / unit` with the fraction's trailing zeros dropped: 1500000 / 1e6 -> "1.5". */
function fraction(value: number, unit: number): string {
  const whole = Math.floor(value / unit);
  const rest = value - whole * unit;
  if (rest === 0) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
