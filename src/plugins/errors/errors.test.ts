/**
 * @module plugins/errors/errors.test
 * errors: the option parser table; the error line CoreDNS prints for a
 * reply carrying an error, a thrown error and a rejected promise;
 * consolidation (period from the first match, Go duration in the summary,
 * levels, show_first, first pattern wins, patterns see only the error text),
 * summaries flushed at stop; and a reply that cannot be encoded.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../../dns/constants.ts';
import { dig, inject } from '../../../test/support/harness.ts';
import { eventually, setupError, startTestServer } from '../../../test/server/helpers/server.ts';

const options: [corefile: string, error: string | null][] = [
  ['. {\n errors\n}', null],
  ['. {\n errors stdout\n}', null],
  ['. {\n errors {\n  stacktrace\n }\n}', null],
  ['. {\n errors {\n  panicRecoveryStacktrace\n }\n}', null],
  ['. {\n errors {\n  consolidate 5m ".* i/o timeout$" warning\n  consolidate 30s "^Failed to .+"\n }\n}', null],
  ['. {\n errors {\n  consolidate 1m "^x" info show_first\n  consolidate 1m "^y" show_first debug\n  consolidate 1m "^z" show_first\n }\n}', null],
  ['. {\n errors stderr\n}', "Corefile:2: plugin/errors: invalid log file 'stderr': only stdout is supported"],
  ['. {\n errors stdout more\n}', "Corefile:2: plugin/errors: 'errors' takes 0 to 1 arguments, got 2"],
  ['. {\n errors\n errors\n}', 'Corefile:3: plugin/errors: this plugin can only be used once per server block'],
  ['. {\n errors {\n  nothing\n }\n}', "Corefile:3: plugin/errors: unknown property 'nothing'"],
  ['. {\n errors {\n  stacktrace please\n }\n}', "Corefile:3: plugin/errors: 'stacktrace' takes 0 arguments, got 1"],
  ['. {\n errors {\n  consolidate 5m\n }\n}', "Corefile:3: plugin/errors: 'consolidate' takes 2 to 4 arguments, got 1"],
  ['. {\n errors {\n  consolidate 5m a warning show_first extra\n }\n}', "Corefile:3: plugin/errors: 'consolidate' takes 2 to 4 arguments, got 5"],
  ['. {\n errors {\n  consolidate soon "^x"\n }\n}', "Corefile:3: plugin/errors: duration 'soon' is not a duration (like 5s, 1m, 250ms)"],
  ['. {\n errors {\n  consolidate 1m "(unclosed"\n }\n}', "Corefile:3: plugin/errors: bad regexp: Invalid regular expression: /(unclosed/: Unterminated group"],
  ['. {\n errors {\n  consolidate 1m "^x" critical\n }\n}', "Corefile:3: plugin/errors: unknown log level argument in consolidate: 'critical'"],
  ['. {\n errors {\n  consolidate 1m "^x" info warning\n }\n}', "Corefile:3: plugin/errors: unknown log level argument in consolidate: 'warning'"],
  [`. {\n errors {\n  consolidate 1m "${'a'.repeat(10001)}"\n }\n}`, 'Corefile:3: plugin/errors: regexp longer than 10000 characters'],
];
for (const [corefile, error] of options) {
  test(`options: ${JSON.stringify(corefile.slice(0, 90))} -> ${error ?? 'ok'}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

/** A server whose only plugin after `errors` fails with `mode`; errors options in `errorsBlock`. */
async function failing(mode: string, text: string, errorsBlock = '') {
  return startTestServer(`.:0 {\n bind 127.0.0.1\n errors${errorsBlock ? ` {\n${errorsBlock}\n }` : ''}\n fail_with ${mode} "${text}"\n}\n`);
}

for (const mode of ['reply', 'throw', 'reject']) {
  test(`an error (${mode}) is logged as CoreDNS does: "[ERROR] plugin/errors: 2 NAME TYPE: text"`, async () => {
    const s = await failing(mode, 'read udp 10.0.0.1:53: i/o timeout');
    try {
      const m = await inject(s.app, 'Fail.Example.org.', 'AAAA');
      assert.equal(m.rcode, Rcode.SERVFAIL);
      assert.deepEqual(s.logs, ['[ERROR] plugin/errors: 2 fail.example.org. AAAA: read udp 10.0.0.1:53: i/o timeout']);
    } finally {
      await s.stop();
    }
  });
}

test('without errors the failure is still SERVFAIL, and nothing is logged', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n fail_with reply quiet\n}\n');
  try {
    assert.equal((await inject(s.app, 'a.example.', 'A')).rcode, Rcode.SERVFAIL);
    assert.deepEqual(s.logs, []);
  } finally {
    await s.stop();
  }
});

test('a successful query logs nothing', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n errors\n whoami\n}\n');
  try {
    assert.equal((await inject(s.app, 'ok.example.', 'A')).rcode, Rcode.NOERROR);
    assert.deepEqual(s.logs, []);
  } finally {
    await s.stop();
  }
});

test('consolidate: matching errors become one summary at the end of the period, at its level', async () => {
  const s = await failing('reply', 'read udp: i/o timeout', '  consolidate 1s "i/o timeout$" warning');
  try {
    for (let i = 0; i < 3; i++) await inject(s.app, `n${i}.example.`, 'A');
    assert.deepEqual(s.logs, [], 'nothing yet: the period started with the first error');
    assert.ok(await eventually(() => s.logs.length > 0, 5000));
    assert.deepEqual(s.logs, ["[WARNING] plugin/errors: 3 errors like 'i/o timeout$' occurred in last 1s"]);
    // A new period starts with the next error.
    await inject(s.app, 'again.example.', 'A');
    assert.ok(await eventually(() => s.logs.length > 1, 5000));
    assert.equal(s.logs[1], "[WARNING] plugin/errors: 1 errors like 'i/o timeout$' occurred in last 1s");
  } finally {
    await s.stop();
  }
});

test('consolidate show_first: the first error in full at once, the total at the end', async () => {
  const s = await failing('reply', 'upstream refused', '  consolidate 500ms "^upstream" error show_first');
  try {
    for (let i = 0; i < 3; i++) await inject(s.app, 'first.example.', 'A');
    assert.deepEqual(s.logs, ['[ERROR] plugin/errors: 2 first.example. A: upstream refused']);
    assert.ok(await eventually(() => s.logs.length > 1, 5000));
    assert.equal(s.logs[1], "[ERROR] plugin/errors: 3 errors like '^upstream' occurred in last 500ms");
  } finally {
    await s.stop();
  }
});

test('consolidate show_first with one error: no summary (it was already shown)', async (t) => {
  const s = await failing('reply', 'upstream refused', '  consolidate 100ms "^upstream" info show_first');
  // The period's timer starts with the first error: mocked from here, it ends when the test says.
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => { mock.timers.reset(); });
  try {
    await inject(s.app, 'once.example.', 'A');
    assert.deepEqual(s.logs, ['[INFO] plugin/errors: 2 once.example. A: upstream refused']);
    mock.timers.tick(100);
    assert.equal(s.logs.length, 1, 'the period ended without a summary line');
  } finally {
    await s.stop();
  }
});

test('the first matching pattern takes the error; patterns see the error text, not the rcode and name', async () => {
  const s = await failing('reply', 'dial tcp: connection refused', '  consolidate 1h "refused$" warning\n  consolidate 1h "^dial" error\n  consolidate 1h "^2 " error');
  try {
    await inject(s.app, 'x.example.', 'A');
    await inject(s.app, 'y.example.', 'A');
    assert.deepEqual(s.logs, []);
    await s.stop();
    // Stopping prints what is pending: all under the first pattern.
    assert.deepEqual(s.logs, ["[WARNING] plugin/errors: 2 errors like 'refused$' occurred in last 1h0m0s"]);
  } finally {
    await s.stop();
  }
});

test('an error matching no pattern is logged at once', async () => {
  const s = await failing('throw', 'something else', '  consolidate 1h "^timeout"');
  try {
    await inject(s.app, 'x.example.', 'A');
    assert.deepEqual(s.logs, ['[ERROR] plugin/errors: 2 x.example. A: something else']);
  } finally {
    await s.stop();
  }
});

test('a reply that cannot be encoded becomes SERVFAIL; the server keeps serving (dig)', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n fail_with encode ignored\n}\nok.test:0 {\n bind 127.0.0.1\n whoami\n}\n');
  try {
    assert.equal((await dig(s.port, 'bad.example', 'A')).status, 'SERVFAIL');
    assert.equal((await dig(s.port, '+tcp', 'bad.example', 'A')).status, 'SERVFAIL');
    assert.equal((await dig(s.port, 'fine.ok.test', 'A')).status, 'NOERROR');
    assert.equal(s.app.server.stats.panics, 2);
  } finally {
    await s.stop();
  }
});
