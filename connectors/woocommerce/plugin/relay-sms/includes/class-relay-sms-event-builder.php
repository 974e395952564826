<?php
/**
 * Builds the relay's event JSON (the wire shape, docs/architecture.md, 'API') from plain values.
 *
 * Pure PHP: no WordPress calls, so it is unit-tested on its own (plugin/tests). Event ids are
 * deterministic (store, order or cart, what happened), so an event sent twice - a retried
 * outbox entry, a cron run that overlapped - is recognised by the relay and sent once.
 *
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

if ( ! class_exists( 'Relay_SMS_Event_Builder' ) ) {

	/**
	 * Consent and cart events for one store.
	 */
	class Relay_SMS_Event_Builder {

		const PLATFORM = 'woocommerce';

		/**
		 * The store's home URL with a trailing slash (the connector's account key).
		 *
		 * @var string
		 */
		private $store_url;

		/**
		 * A short ASCII name of the store for event ids.
		 *
		 * @var string
		 */
		private $slug;

		/**
		 * @param string $store_url The store's home URL, e.g. https://shop.example.by/.
		 */
		public function __construct( $store_url ) {
			$this->store_url = rtrim( (string) $store_url, '/' ) . '/';
			$this->slug      = self::slug( $this->store_url );
		}

		/**
		 * `https://Shop.example.by/en/` → `shop.example.by-en` (long ones cut and hashed).
		 *
		 * @param string $url Store URL.
		 * @return string
		 */
		public static function slug( $url ) {
			$parts = parse_url( (string) $url );
			$host  = isset( $parts['host'] ) ? strtolower( $parts['host'] ) : 'store';
			if ( isset( $parts['port'] ) ) {
				$host .= '-' . $parts['port'];
			}
			$path = isset( $parts['path'] ) ? trim( $parts['path'], '/' ) : '';
			$slug = trim( preg_replace( '/[^A-Za-z0-9.\-]+/', '-', $host . ( '' === $path ? '' : '-' . $path ) ), '-' );
			if ( strlen( $slug ) > 60 ) {
				$slug = substr( $slug, 0, 49 ) . '-' . substr( hash( 'sha256', (string) $url ), 0, 10 );
			}
			return '' === $slug ? 'store' : $slug;
		}

		/**
		 * ISO 8601 with an offset, in UTC (the relay compares times in UTC).
		 *
		 * @param int $timestamp Unix time.
		 * @return string
		 */
		public static function iso( $timestamp ) {
			return gmdate( 'Y-m-d\TH:i:s+00:00', (int) $timestamp );
		}

		/**
		 * Plain text for an SMS: tags removed, whitespace collapsed, at most `$max` characters.
		 *
		 * @param mixed $value Text from a form or a product.
		 * @param int   $max   Length limit.
		 * @return string
		 */
		public static function text( $value, $max ) {
			$text = trim( (string) preg_replace( '/\s+/u', ' ', strip_tags( (string) $value ) ) );
			return function_exists( 'mb_substr' ) ? mb_substr( $text, 0, $max, 'UTF-8' ) : substr( $text, 0, $max );
		}

		/**
		 * The `source` block.
		 *
		 * @return array
		 */
		private function source() {
			return array(
				'platform' => self::PLATFORM,
				'account'  => $this->store_url,
			);
		}

		/**
		 * A consent record from the checkout checkbox: the exact wording shown, the time, the
		 * customer's IP and user agent.
		 *
		 * @param bool   $granted    Ticked (granted) or unticked after an earlier grant (revoked).
		 * @param string $phone      The billing phone as typed; the relay normalises it.
		 * @param string $wording    The label shown next to the checkbox, exactly.
		 * @param string $ip         Customer IP (empty when unknown).
		 * @param string $user_agent Customer browser (empty when unknown).
		 * @param int    $time       When the order was placed (Unix time).
		 * @param string $order_id   The order the checkbox was part of.
		 * @return array
		 */
		public function consent( $granted, $phone, $wording, $ip, $user_agent, $time, $order_id ) {
			$what    = $granted ? 'granted' : 'revoked';
			$consent = array(
				'purpose'     => 'marketing',
				'channel'     => 'sms',
				'granted'     => (bool) $granted,
				'source'      => 'checkout_checkbox',
				'wording'     => (string) $wording,
				'captured_at' => self::iso( $time ),
			);
			if ( '' !== (string) $ip && false !== filter_var( $ip, FILTER_VALIDATE_IP ) ) {
				$consent['ip'] = (string) $ip;
			}
			if ( '' !== (string) $user_agent ) {
				$consent['user_agent'] = substr( (string) $user_agent, 0, 1024 );
			}
			return array(
				'event_id'    => 'woo-consent-' . $this->slug . '-' . $order_id . '-' . $what,
				'type'        => 'consent.' . $what,
				'occurred_at' => self::iso( $time ),
				'source'      => $this->source(),
				'customer'    => array( 'phone' => (string) $phone ),
				'consent'     => $consent,
				'data'        => array( 'order_id' => (string) $order_id ),
			);
		}

		/**
		 * `cart.abandoned` for a captured cart. One event per cart state: a cart changed after
		 * it was reported (new `updated_at`) may be reported again.
		 *
		 * @param array  $cart Row: cart_id, phone, name, email, total, currency, items, updated_at.
		 * @param int    $delay_minutes How long the cart was left before it counts as abandoned.
		 * @param string $url  Where the customer picks the cart up again.
		 * @return array
		 */
		public function cart_abandoned( array $cart, $delay_minutes, $url ) {
			$customer = array( 'phone' => (string) $cart['phone'] );
			$name     = self::text( isset( $cart['name'] ) ? $cart['name'] : '', 100 );
			if ( '' !== $name ) {
				$customer['name'] = $name;
			}
			$block = array( 'id' => (string) $cart['cart_id'] );
			if ( isset( $cart['total'] ) && is_numeric( $cart['total'] ) && ! empty( $cart['currency'] ) ) {
				$block['total']    = number_format( (float) $cart['total'], 2, '.', '' );
				$block['currency'] = strtoupper( (string) $cart['currency'] );
			}
			if ( '' !== (string) $url ) {
				$block['url'] = (string) $url;
			}
			$items = array();
			foreach ( array_slice( isset( $cart['items'] ) ? (array) $cart['items'] : array(), 0, 20 ) as $item ) {
				$items[] = array(
					'name'     => self::text( isset( $item['name'] ) ? $item['name'] : '', 120 ),
					'quantity' => isset( $item['quantity'] ) ? (int) $item['quantity'] : 1,
				);
			}
			$updated = (int) $cart['updated_at'];
			return array(
				'event_id'    => 'woo-cart-' . $this->slug . '-' . $cart['cart_id'] . '-' . $updated,
				'type'        => 'cart.abandoned',
				'occurred_at' => self::iso( $updated + 60 * (int) $delay_minutes ),
				'source'      => $this->source(),
				'customer'    => $customer,
				'cart'        => $block,
				'data'        => array(
					'items'            => $items,
					'last_activity_at' => self::iso( $updated ),
				),
			);
		}

		/**
		 * `cart.recovered`: an order was placed from a cart that had been reported abandoned;
		 * the relay cancels the reminder that may still be waiting.
		 *
		 * @param array  $cart     Row: cart_id, phone.
		 * @param string $order_id The order placed.
		 * @param int    $time     When.
		 * @return array
		 */
		public function cart_recovered( array $cart, $order_id, $time ) {
			$event = array(
				'event_id'    => 'woo-cart-' . $this->slug . '-' . $cart['cart_id'] . '-recovered',
				'type'        => 'cart.recovered',
				'occurred_at' => self::iso( $time ),
				'source'      => $this->source(),
				'cart'        => array( 'id' => (string) $cart['cart_id'] ),
				'data'        => array( 'order_id' => (string) $order_id ),
			);
			if ( ! empty( $cart['phone'] ) ) {
				$event['customer'] = array( 'phone' => (string) $cart['phone'] );
			}
			return $event;
		}
	}
}
