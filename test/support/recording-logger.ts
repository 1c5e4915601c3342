/**
 * @module test/support/recording-logger
 * A Logger (warn/error/info) that records lines for assertions instead of
 * printing them; set CLUSTERDNS_TEST_LOG=1 to also print.
 */

export class RecordingLogger {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly infos: string[] = [];

  error(msg: string): void {
    this.errors.push(msg);
    if (process.env.CLUSTERDNS_TEST_LOG) console.error(`ERROR ${msg}`);
  }

  warn(msg: string): void {
    this.warnings.push(msg);
    if (process.env.CLUSTERDNS_TEST_LOG) console.error(`WARN ${msg}`);
  }

  info(msg: string): void {
    this.infos.push(msg);
    if (process.env.CLUSTERDNS_TEST_LOG) console.error(`INFO ${msg}`);
  }
}
