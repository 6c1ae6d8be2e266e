/** A clock the test moves by hand; pass `clock.now` as the scheduler's `clock` option. */
export class FakeClock {
  #time: number

  constructor (start: string | Date) {
    this.#time = new Date(start).getTime()
  }

  readonly now = (): Date => new Date(this.#time)

  advance (ms: number): void {
    this.#time += ms
  }

  set (to: string | Date): void {
    this.#time = new Date(to).getTime()
  }
}
