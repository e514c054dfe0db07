/**
 * Test-only preload: shifts this process's clock (Date.now, new Date()) by
 * TOCSIN_TEST_CLOCK_SKEW_MS milliseconds. Used as NODE_OPTIONS="--require <this file>" to run
 * the built shim as a node whose clock is off, without any hook in the shim itself.
 */
'use strict';
const skew = Number(process.env.TOCSIN_TEST_CLOCK_SKEW_MS || 0);
if (skew !== 0) {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...args);
    }
    static now() {
      return RealDate.now() + skew;
    }
  }
  globalThis.Date = SkewedDate;
}
