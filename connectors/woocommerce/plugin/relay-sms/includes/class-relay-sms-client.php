<?php
/**
 * Talking to the relay over HTTPS with the tenant's API key (`Authorization: Bearer <key>`):
 *
 * - `POST {relay}/v1/events` with one event (JSON); the relay answers 202 (new) or 200
 *   (duplicate) with `{"event_id": …}`, which is the only answer taken as delivered;
 * - `GET {relay}/v1/account` for the connection test (`{"tenant": {"id", "name", "region"}}`);
 * - `POST {relay}/v1/cabinet/links` for a signed-in link into the relay's web cabinet
 *   (`{"url": …}`; 404 when the relay has no cabinet).
 *
 * Redirects are not followed (a relay URL that redirects is a set-up mistake, reported as
 * such, never a silent success). The key and phone numbers are never logged.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * HTTP client.
 */
class Relay_SMS_Client {

	/**
	 * An answer that never reached the relay.
	 *
	 * @param int|null $code  0 for our own fault, null for no answer.
	 * @param string   $error Description.
	 * @return array
	 */
	public static function failure( $code, $error ) {
		return array(
			'code'        => $code,
			'json'        => null,
			'error'       => $error,
			'retry_after' => null,
		);
	}

	/**
	 * One request to the relay.
	 *
	 * @param string     $method GET or POST.
	 * @param string     $path   E.g. /v1/events.
	 * @param array|null $body   JSON body.
	 * @return array{code:int|null, json:array|null, error:string, retry_after:int|null}
	 */
	public static function request( $method, $path, $body = null ) {
		$settings = Relay_SMS_Settings::get();
		$key      = Relay_SMS_Settings::api_key();
		if ( '' === $settings['relay_url'] || '' === $key ) {
			return self::failure( null, __( 'The relay URL or API key is not set.', 'relay-sms' ) );
		}
		$problem = Relay_SMS_Relay_Url::problem( $settings['relay_url'], Relay_SMS_Settings::allow_http() );
		if ( '' !== $problem ) {
			return self::failure( null, __( 'The relay URL must start with https:// (plain http:// only for localhost).', 'relay-sms' ) );
		}
		$args = array(
			'method'      => $method,
			'timeout'     => 15,
			'redirection' => 0,
			'user-agent'  => 'relay-sms/' . RELAY_SMS_VERSION . '; ' . home_url( '/' ),
			'headers'     => array(
				'Authorization' => 'Bearer ' . $key,
				'Accept'        => 'application/json',
			),
		);
		if ( null !== $body ) {
			$args['headers']['Content-Type'] = 'application/json';
			$args['body']                    = wp_json_encode( $body );
		}
		$response = wp_remote_request( $settings['relay_url'] . $path, $args );
		if ( is_wp_error( $response ) ) {
			/* translators: %s: the error from the HTTP library, e.g. "cURL error 7: Failed to connect". */
			return self::failure( null, sprintf( __( 'The relay could not be reached: %s', 'relay-sms' ), $response->get_error_message() ) );
		}
		$code        = (int) wp_remote_retrieve_response_code( $response );
		$json        = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		$json        = is_array( $json ) ? $json : null;
		$retry_after = wp_remote_retrieve_header( $response, 'retry-after' );
		return array(
			'code'        => $code,
			'json'        => $json,
			'error'       => ( $code >= 200 && $code < 300 ) ? '' : self::describe( $code, $json, $response ),
			'retry_after' => is_numeric( $retry_after ) ? (int) $retry_after : null,
		);
	}

	/**
	 * A failed answer in words: the status, the relay's error code and message.
	 *
	 * @param int        $code     HTTP status.
	 * @param array|null $json     Body, when JSON.
	 * @param array      $response The response.
	 * @return string
	 */
	private static function describe( $code, $json, $response ) {
		$what = (string) $code;
		if ( is_array( $json ) && isset( $json['error'] ) && is_array( $json['error'] ) ) {
			$error = $json['error'];
			$what .= isset( $error['code'] ) ? ' ' . sanitize_text_field( (string) $error['code'] ) : '';
			$what .= isset( $error['message'] ) ? ': ' . sanitize_text_field( (string) $error['message'] ) : '';
			if ( ! empty( $error['fields'] ) && is_array( $error['fields'] ) ) {
				$what .= ' (' . sanitize_text_field( (string) wp_json_encode( $error['fields'] ) ) . ')';
			}
			return substr( $what, 0, 250 );
		}
		if ( $code >= 300 && $code < 400 ) {
			/* translators: %s: the address the relay URL redirects to. */
			return $what . ' ' . sprintf( __( 'redirect to %s: check the relay URL', 'relay-sms' ), esc_url_raw( (string) wp_remote_retrieve_header( $response, 'location' ) ) );
		}
		$hints = array(
			401 => __( 'the API key is wrong or revoked', 'relay-sms' ),
			403 => __( 'the API key lacks the events:write scope', 'relay-sms' ),
			404 => __( 'not found: check the relay URL', 'relay-sms' ),
		);
		return $what . ( isset( $hints[ $code ] ) ? ' ' . $hints[ $code ] : ' ' . wp_remote_retrieve_response_message( $response ) );
	}

	/**
	 * POST one event.
	 *
	 * @param array $event Wire event.
	 * @return array See request().
	 */
	public static function post_event( array $event ) {
		return self::request( 'POST', '/v1/events', $event );
	}

	/**
	 * The connection test: the tenant this key belongs to.
	 *
	 * @return array See request().
	 */
	public static function account() {
		return self::request( 'GET', '/v1/account' );
	}

	/**
	 * A signed-in link into the relay's web cabinet.
	 *
	 * @return array See request().
	 */
	public static function cabinet_link() {
		return self::request( 'POST', '/v1/cabinet/links', array( 'platform' => 'woocommerce' ) );
	}

	/**
	 * Log through WooCommerce's logger (never the API key, never a phone number).
	 *
	 * @param string $message Text.
	 * @param string $level   warning or error.
	 */
	public static function log( $message, $level = 'warning' ) {
		if ( function_exists( 'wc_get_logger' ) ) {
			wc_get_logger()->log( $level, $message, array( 'source' => 'relay-sms' ) );
		}
	}
}
