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
 * @package RelaySms
 */

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
		 * The signed link that restores a cart: `?relay-sms-cart=<id>&relay-sms-key=<hmac>`.
		 *
		 * @param string $home    The store's home URL.
		 * @param string $cart_id Cart id.
		 * @param string $secret  A site secret (wp_salt).
		 * @return string
		 */
		public static function recovery_url( $home, $cart_id, $secret ) {
			$key  = substr( hash_hmac( 'sha256', (string) $cart_id, (string) $secret ), 0, 32 );
			$glue = false === strpos( (string) $home, '?' ) ? '?' : '&';
			return $home . $glue . 'relay-sms-cart=' . rawurlencode( $cart_id ) . '&relay-sms-key=' . $key;
		}

		/**
		 * Whether a recovery link's key is the one we made (constant-time).
		 *
		 * @param string $cart_id Cart id from the link.
		 * @param string $key     Key from the link.
		 * @param string $secret  The same site secret.
		 * @return bool
		 */
		public static function valid_key( $cart_id, $key, $secret ) {
			$expected = substr( hash_hmac( 'sha256', (string) $cart_id, (string) $secret ), 0, 32 );
			return is_string( $key ) && hash_equals( $expected, $key );
		}

		/**
		 * What to do with an outbox entry after the relay answered `status` (null: no answer).
		 *
		 * @param int|null $status HTTP status.
		 * @return string done (202 new, 200 duplicate), drop (4xx: it will never be accepted),
		 *                or retry (no answer, 429, 5xx).
		 */
		public static function outcome( $status ) {
			if ( null === $status || 429 === $status || $status >= 500 ) {
				return 'retry';
			}
			return ( $status >= 200 && $status < 300 ) ? 'done' : 'drop';
		}
	}
}
