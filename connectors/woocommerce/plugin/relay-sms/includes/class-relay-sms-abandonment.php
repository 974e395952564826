<?php
/**
 * Abandoned carts: which captured carts to report, what an order means for its cart, the
 * link that restores a cart, and what to do with the relay's answer.
 *
 * Pure PHP, unit-tested. A cart is captured (with a phone) on the checkout page; when it has
 * been left alone for the configured delay without an order it is reported `cart.abandoned`
 * once. An order placed from it before that is simply `converted` (nothing is ever sent); an
 * order placed after it was reported sends `cart.recovered`, which cancels the reminder the
 * relay may still hold.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'Relay_SMS_Abandonment' ) ) {

	/**
	 * Abandonment rules.
	 */
	class Relay_SMS_Abandonment {

		const OPEN      = 'open';
		const REPORTED  = 'reported';
		const CONVERTED = 'converted';
		const RECOVERED = 'recovered';
		const DEFAULT_DELAY_MINUTES = 60;

		/**
		 * The delay from the settings, as whole minutes within 5 minutes … 7 days.
		 *
		 * @param mixed $configured Settings value.
		 * @return int
		 */
		public static function delay_minutes( $configured ) {
			if ( ! is_numeric( $configured ) ) {
				return self::DEFAULT_DELAY_MINUTES;
			}
			return max( 5, min( 7 * 24 * 60, (int) $configured ) );
		}

		/**
		 * Whether a typed phone is worth capturing (at least 7 digits).
		 *
		 * @param mixed $phone As typed.
		 * @return bool
		 */
		public static function has_phone( $phone ) {
			return strlen( preg_replace( '/\D+/', '', (string) $phone ) ) >= 7;
		}

		/**
		 * The carts to report now: open, with a phone and items, untouched for the delay.
		 *
		 * @param array $carts         Rows with status, phone, items, updated_at.
		 * @param int   $now           Unix time.
		 * @param int   $delay_minutes Delay.
		 * @return array
		 */
		public static function due( array $carts, $now, $delay_minutes ) {
			$cutoff = (int) $now - 60 * (int) $delay_minutes;
			$due    = array();
			foreach ( $carts as $cart ) {
				if ( self::OPEN === $cart['status'] && self::has_phone( $cart['phone'] )
					&& ! empty( $cart['items'] ) && (int) $cart['updated_at'] <= $cutoff ) {
					$due[] = $cart;
				}
			}
			return $due;
		}

		/**
		 * The cart's new status when an order is placed from it.
		 *
		 * @param string $status The cart's status now.
		 * @return string converted (never reported: nothing to cancel) or recovered.
		 */
		public static function on_order( $status ) {
			return self::REPORTED === $status ? self::RECOVERED : self::CONVERTED;
		}

		/**
		 * The signed link that restores a cart:
		 * `?relay-sms-cart=<id>&relay-sms-exp=<unix time>&relay-sms-key=<hmac>`. The key covers
		 * the cart id and the expiry, so a link cannot be stretched.
		 *
		 * @param string $home    The store's home URL.
		 * @param string $cart_id Cart id.
		 * @param string $secret  A site secret (wp_salt).
		 * @param int    $expires Unix time after which the link is refused.
		 * @return string
		 */
		public static function recovery_url( $home, $cart_id, $secret, $expires ) {
			$glue = false === strpos( (string) $home, '?' ) ? '?' : '&';
			return $home . $glue . 'relay-sms-cart=' . rawurlencode( $cart_id ) . '&relay-sms-exp=' . (int) $expires
				. '&relay-sms-key=' . self::link_key( $cart_id, $expires, $secret );
		}

		/**
		 * The HMAC of a recovery link.
		 *
		 * @param string $cart_id Cart id.
		 * @param int    $expires Expiry.
		 * @param string $secret  Site secret.
		 * @return string
		 */
		private static function link_key( $cart_id, $expires, $secret ) {
			return substr( hash_hmac( 'sha256', (string) $cart_id . '|' . (int) $expires, (string) $secret ), 0, 32 );
		}

		/**
		 * Whether a recovery link may restore its cart: the key is ours (constant-time), the
		 * link has not expired, and the cart has not been ordered already.
		 *
		 * @param string      $cart_id Cart id from the link.
		 * @param mixed       $expires Expiry from the link.
		 * @param mixed       $key     Key from the link.
		 * @param string      $secret  The same site secret.
		 * @param int         $now     Unix time.
		 * @param string|null $status  The cart's status (null: no such cart any more).
		 * @return string ok, invalid, expired, ordered or missing.
		 */
		public static function check_link( $cart_id, $expires, $key, $secret, $now, $status ) {
			if ( ! is_string( $key ) || ! is_numeric( $expires ) || ! hash_equals( self::link_key( $cart_id, (int) $expires, $secret ), $key ) ) {
				return 'invalid';
			}
			if ( (int) $now > (int) $expires ) {
				return 'expired';
			}
			if ( null === $status ) {
				return 'missing';
			}
			return in_array( $status, array( self::CONVERTED, self::RECOVERED ), true ) ? 'ordered' : 'ok';
		}

		/**
		 * What to do with a queued event after the relay answered.
		 *
		 * @param int|null $status       HTTP status (null: no answer at all).
		 * @param bool     $acknowledged A 2xx answer named our event (the relay's JSON).
		 * @return string `done` (202 new, 200 duplicate, acknowledged); `discard` (400, 413,
		 *                422: the event itself is invalid, it will never be accepted);
		 *                `conflict` (409: the relay already holds another event with this id,
		 *                nothing more can be delivered); `retry` (no answer, 401, 403, 404, 408,
		 *                429, 5xx, redirects and anything else: a set-up mistake or an outage,
		 *                the event is kept).
		 */
		public static function outcome( $status, $acknowledged = true ) {
			if ( null !== $status && $status >= 200 && $status < 300 ) {
				return $acknowledged ? 'done' : 'retry';
			}
			if ( in_array( $status, array( 400, 413, 422 ), true ) ) {
				return 'discard';
			}
			return 409 === $status ? 'conflict' : 'retry';
		}

		/**
		 * Seconds to wait before try number `attempt` + 1: 1, 2, 4 … minutes, at most an hour,
		 * never less than a Retry-After the relay asked for (capped at a day).
		 *
		 * @param int      $attempt     Tries made so far (1 after the first).
		 * @param int|null $retry_after Retry-After seconds, when the relay sent one.
		 * @return int
		 */
		public static function backoff( $attempt, $retry_after = null ) {
			$wait = (int) min( 3600, 60 * pow( 2, max( 0, (int) $attempt - 1 ) ) );
			if ( null !== $retry_after && (int) $retry_after > $wait ) {
				$wait = (int) min( 86400, (int) $retry_after );
			}
			return $wait;
		}
	}
}
