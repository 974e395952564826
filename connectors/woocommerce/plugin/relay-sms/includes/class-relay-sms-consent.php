<?php
/**
 * The SMS-marketing checkbox: its wording and what a tick (or no tick) means.
 *
 * Pure PHP, unit-tested. The box is never ticked for someone who has not agreed before; a
 * logged-in customer who agreed earlier sees it ticked (their current choice), so unticking
 * it is a revocation. A guest who leaves it unticked revokes nothing: not agreeing is not
 * withdrawing.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'Relay_SMS_Consent' ) ) {

	/**
	 * Consent decisions.
	 */
	class Relay_SMS_Consent {

		const DEFAULT_WORDING = 'I agree to receive SMS about discounts and offers from this store. I can opt out at any time by replying STOP.';
		const CLASSIC_FIELD   = 'relay_sms_marketing_consent';
		const BLOCK_FIELD     = 'relay-sms/marketing-consent';
		const CLASSIC_META    = '_relay_sms_marketing_consent';
		const BLOCK_META      = '_wc_other/relay-sms/marketing-consent';

		/**
		 * The default wording in the site's language (the Russian translation ships with the
		 * plugin); the English original outside WordPress.
		 *
		 * @return string
		 */
		public static function default_wording() {
			if ( function_exists( '__' ) ) {
				return __( 'I agree to receive SMS about discounts and offers from this store. I can opt out at any time by replying STOP.', 'relay-sms' );
			}
			return self::DEFAULT_WORDING;
		}

		/**
		 * The wording shown: the configured text, or the default when empty.
		 *
		 * @param mixed $configured From the settings page.
		 * @return string
		 */
		public static function wording( $configured ) {
			$text = trim( preg_replace( '/\s+/u', ' ', (string) $configured ) );
			return '' === $text ? self::default_wording() : $text;
		}

		/**
		 * Whether a submitted checkbox value means "ticked" ('1', 'on', 'yes', true …).
		 *
		 * @param mixed $value Raw value from $_POST or order meta.
		 * @return bool
		 */
		public static function is_ticked( $value ) {
			if ( is_bool( $value ) ) {
				return $value;
			}
			return in_array( strtolower( trim( (string) $value ) ), array( '1', 'on', 'yes', 'true' ), true );
		}

		/**
		 * What to send to the relay for this checkout.
		 *
		 * @param bool|null   $previous         The customer's choice on file (null: unknown/guest).
		 * @param string|null $previous_wording The wording they agreed to then.
		 * @param bool        $ticked           The box at this checkout.
		 * @param string      $wording          The wording shown now.
		 * @return string|null 'granted', 'revoked' or null (nothing new).
		 */
		public static function decide( $previous, $previous_wording, $ticked, $wording ) {
			if ( $ticked ) {
				// A new wording is a new agreement: record it even for someone who agreed before.
				return ( true !== $previous || $previous_wording !== $wording ) ? 'granted' : null;
			}
			return true === $previous ? 'revoked' : null;
		}
	}
}
