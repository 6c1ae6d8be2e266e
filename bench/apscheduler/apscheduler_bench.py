"""APScheduler 3 side of `npm run bench`: the same scenarios with SQLAlchemyJobStore on the run's
database (PostgreSQL, MariaDB or SQLite).

usage: python3 apscheduler_bench.py <scenario> <SQLAlchemy url> <sizes json>
The URL is SQLAlchemy's, built by the Node side (bench/databases/*.mjs `sqlalchemyUrl`):
postgresql+psycopg2://…, mysql+pymysql://… or sqlite:////path.
Prints one `BENCH_RESULT <json>` line. Lag = time the job function starts (time.time()) minus
the scheduled run time (the event's scheduled_run_time). APScheduler 3 keeps no execution log,
so its figures are without one. Options: BackgroundScheduler, ThreadPoolExecutor(WORKERS),
misfire_grace_time=None and coalesce=True (as this project's defaults), max_instances=1.
"""
import json
import logging
import math
import pickle
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.util import datetime_to_utc_timestamp

WORKERS = 20
starts = {}


def noop(key):
    starts[key] = time.time()


def make_scheduler(url):
    return BackgroundScheduler(
        jobstores={'default': SQLAlchemyJobStore(url=url)},
        executors={'default': ThreadPoolExecutor(WORKERS)},
        job_defaults={'misfire_grace_time': None, 'coalesce': True, 'max_instances': 1},
        timezone=timezone.utc)


class Outcomes:
    """Counts executions; lag of each = recorded start of its job − scheduled_run_time."""

    def __init__(self, scheduler, window_end=math.inf):
        self.executed = 0
        self.failed = 0
        self.last = 0.0
        self.lags = []
        self.window_end = window_end
        self.done = threading.Condition()
        scheduler.add_listener(self.on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def on_event(self, event):
        with self.done:
            if event.code == EVENT_JOB_EXECUTED:
                self.executed += 1
                self.last = time.time()
                scheduled = event.scheduled_run_time.timestamp()
                if scheduled < self.window_end:
                    self.lags.append((starts[event.job_id] - scheduled) * 1000)
            else:
                self.failed += 1
            self.done.notify_all()

    def wait_for(self, n, timeout):
        with self.done:
            if not self.done.wait_for(lambda: self.executed + self.failed >= n, timeout):
                raise TimeoutError(f'{self.executed + self.failed}/{n} executions after {timeout}s')


def lag_summary(values):
    if not values:
        return {'count': 0, 'p50': None, 'p99': None, 'max': None}
    s = sorted(values)
    at = lambda p: s[min(len(s) - 1, math.ceil(p * len(s)) - 1)]
    return {'count': len(s), 'p50': at(0.5), 'p99': at(0.99), 'max': s[-1]}


class ProcessWindow:
    """CPU share (of one core, all threads) and peak RSS of this process over a window."""

    def __init__(self):
        self.cpu0, self.t0, self.rss_peak = time.process_time(), time.time(), rss_mb()
        self.stop = threading.Event()
        threading.Thread(target=self.sample, daemon=True).start()

    def sample(self):
        while not self.stop.wait(0.25):
            self.rss_peak = max(self.rss_peak, rss_mb())

    def close(self):
        self.stop.set()
        cpu = (time.process_time() - self.cpu0) / (time.time() - self.t0) * 100
        return {'cpuPercent': cpu, 'rssPeakMb': max(self.rss_peak, rss_mb())}


def rss_mb():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def stop(scheduler):
    """Pauses first: shutting down while the loop submits jobs makes APScheduler log errors."""
    logging.getLogger('apscheduler').setLevel(logging.CRITICAL)
    scheduler.pause()
    time.sleep(0.5)
    scheduler.shutdown()


def utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc)


def lead_seconds(scheduler, jobs):
    """Times 200 adds to pick a due instant the real adds will not overrun."""
    t0 = time.time()
    for i in range(200):
        scheduler.add_job(noop, 'date', run_date=utc(t0 + 86400), id=f'calibrate-{i}', args=[f'calibrate-{i}'])
    per_job = (time.time() - t0) / 200
    scheduler.remove_all_jobs()
    return jobs * per_job * 1.5 + 2


def burst(url, jobs):
    scheduler = make_scheduler(url)
    scheduler.start(paused=True)
    outcomes = Outcomes(scheduler)
    lead = lead_seconds(scheduler, jobs)
    for attempt in range(3):
        due = math.ceil(time.time() + lead)
        t0 = time.time()
        for i in range(jobs):
            scheduler.add_job(noop, 'date', run_date=utc(due), id=f'burst-{i}', args=[f'burst-{i}'])
        add_seconds = time.time() - t0
        if time.time() < due:
            break
        # The machine was slower than the calibration: clear the table in one statement and
        # retry with a lead based on this attempt, so adding is never part of the lag.
        store = scheduler._jobstores['default']
        with store.engine.begin() as connection:
            connection.execute(store.jobs_t.delete())
        lead = add_seconds * 2 + 2
    else:
        raise RuntimeError(f'adding {jobs} jobs kept overrunning the due instant (last took {add_seconds:.1f}s)')
    scheduler.resume()
    outcomes.wait_for(jobs, 600)
    stop(scheduler)
    return {'jobs': jobs, 'executionsPerSecond': jobs / (outcomes.last - due), 'lagMs': lag_summary(outcomes.lags),
            'note': f'{outcomes.executed}/{jobs} executed; adds took {add_seconds:.1f} s (attempt {attempt + 1}); no execution log'}


def steady(url, jobs, seconds):
    scheduler = make_scheduler(url)
    scheduler.start(paused=True)
    start = math.ceil(time.time() + lead_seconds(scheduler, jobs))
    outcomes = Outcomes(scheduler, window_end=start + seconds)
    for i in range(jobs):
        scheduler.add_job(noop, 'interval', seconds=1, start_date=utc(start), id=f'steady-{i}', args=[f'steady-{i}'])
    scheduler.resume()
    time.sleep(max(0, start - time.time()))
    window = ProcessWindow()
    time.sleep(max(0, start + seconds - time.time()))
    measured = window.close()
    time.sleep(1)
    stop(scheduler)
    return {'jobs': jobs, 'seconds': seconds, 'lagMs': lag_summary(outcomes.lags), **measured,
            'note': f'{len(outcomes.lags)}/{jobs * seconds} occurrences started in the window; no execution log'}


def scale_fill(url, jobs, due, ticking, **_):
    """Bulk-inserts pickled job states (one add_job per row would take minutes): the jobs are
    built by an unstarted scheduler (pending, nothing written) and inserted in one executemany."""
    scheduler = make_scheduler(url)
    store = scheduler._jobstores['default']
    store.start(scheduler, 'default')  # creates the table
    now = time.time()
    soon, far = utc(now + 1), utc(now + 30 * 86400)
    triggers = [('cron', {'hour': 3, 'minute': 0}), ('interval', {'hours': 6, 'start_date': far}), ('date', {'run_date': far})]
    specs = [(f'idle-{i}', *triggers[i % 3]) for i in range(jobs - due - ticking)]
    specs += [(f'due-{i}', 'date', {'run_date': soon}) for i in range(due)]
    specs += [(f'tick-{i}', 'interval', {'seconds': 5, 'start_date': soon}) for i in range(ticking)]
    rows = []
    for job_id, trigger, kwargs in specs:
        job = scheduler.add_job(noop, trigger, id=job_id, args=[job_id], misfire_grace_time=None, coalesce=True,
                                max_instances=1, **kwargs)
        next_run = job.trigger.get_next_fire_time(None, utc(now))
        job._modify(next_run_time=next_run)
        rows.append({'id': job.id, 'next_run_time': datetime_to_utc_timestamp(next_run),
                     'job_state': pickle.dumps(job.__getstate__(), store.pickle_protocol)})
    with store.engine.begin() as connection:
        connection.execute(store.jobs_t.insert(), rows)
    store.shutdown()
    time.sleep(max(0, now + 1.05 - time.time()))
    return {'jobs': jobs}


def scale(url, jobs, due, ticking, idleSeconds):
    scheduler = make_scheduler(url)
    outcomes = Outcomes(scheduler)
    first = threading.Event()
    scheduler.add_listener(lambda event: first.set(), EVENT_JOB_EXECUTED)
    t0 = time.time()
    scheduler.start()
    first.wait(60)
    first_fire = min(starts.values()) if starts else math.nan
    outcomes.wait_for(due + ticking, 30)
    window = ProcessWindow()
    time.sleep(idleSeconds)
    measured = window.close()
    stop(scheduler)
    return {'jobs': jobs, 'startToFirstFireMs': (first_fire - t0) * 1000, 'rssPeakMb': measured['rssPeakMb'],
            'idleCpuPercent': measured['cpuPercent'], 'note': f'{outcomes.executed} executions, {outcomes.failed} failed'}


def adds(url, single, batched, batchSize):
    scheduler = make_scheduler(url)
    scheduler.start()
    run_date = utc(time.time() + 86400)
    t0 = time.time()
    for i in range(single):
        scheduler.add_job(noop, 'date', run_date=run_date, id=f'single-{i}', args=[f'single-{i}'])
    per_second = single / (time.time() - t0)
    scheduler.shutdown()
    return {'single': single, 'singlePerSecond': per_second, 'batchedPerSecond': None,
            'note': 'APScheduler 3 has no batched add'}


SCENARIOS = {'burst': burst, 'steady': steady, 'scaleFill': scale_fill, 'scale': scale, 'adds': adds}

if __name__ == '__main__':
    name, url, sizes = sys.argv[1:4]
    result = SCENARIOS[name](url, **json.loads(sizes))
    print('BENCH_RESULT ' + json.dumps(result), flush=True)
