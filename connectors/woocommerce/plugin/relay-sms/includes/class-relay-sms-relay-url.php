<?php
/**
 * Which relay URLs the plugin accepts: HTTPS only (the API key and customers' phone numbers
 * travel in every request), with plain HTTP allowed for local development on loopback
 * addresses (localhost, 127.0.0.1, ::1) or when the site defines RELAY_SMS_ALLOW_HTTP.
 *
 * Pure PHP, unit-tested.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'Relay_SMS_Relay_Url' ) ) {

	/**
	 * Relay URL rules.
	 */
	class Relay_SMS_Relay_Url {

		/**
		 * Why a relay URL is refused, or '' when it is fine.
		 *
		 * @param string $url        As entered.
		 * @param bool   $allow_http RELAY_SMS_ALLOW_HTTP.
		 * @return string '', 'invalid', 'http' or 'credentials'.
		 */
		public static function problem( $url, $allow_http = false ) {
			$parts = parse_url( trim( (string) $url ) );
			if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
				return 'invalid';
			}
			if ( isset( $parts['user'] ) || isset( $parts['pass'] ) ) {
				return 'credentials';
			}
			if ( isset( $parts['query'] ) || isset( $parts['fragment'] ) ) {
				return 'invalid';
			}
			$scheme = strtolower( $parts['scheme'] );
			if ( 'https' === $scheme ) {
				return '';
			}
			if ( 'http' !== $scheme ) {
				return 'invalid';
			}
			return ( $allow_http || self::is_loopback( $parts['host'] ) ) ? '' : 'http';
		}

		/**
		 * Whether a host is this machine.
		 *
		 * @param string $host Host from the URL.
		 * @return bool
		 */
		public static function is_loopback( $host ) {
			$host = strtolower( trim( (string) $host, '[]' ) );
			if ( 'localhost' === $host || '::1' === $host ) {
				return true;
			}
			return (bool) preg_match( '/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/', $host );
		}

		/**
		 * The URL as stored: trimmed, without a trailing slash.
		 *
		 * @param string $url As entered.
		 * @return string
		 */
		public static function normalise( $url ) {
			return rtrim( trim( (string) $url ), '/' );
		}
	}
}
